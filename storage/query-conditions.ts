/**
 * Builds a WHERE clause from optional filters, every value a ClickHouse query parameter: the one
 * place a repository turns user input into SQL, and it never concatenates a value.
 */
export class QueryConditions {
  private readonly conditions: string[] = []
  readonly params: Record<string, unknown> = {}

  /** `ts` within [fromTs, toTs), on a DateTime64(3) column. */
  timeRange(fromTs: number, toTs: number, column = 'ts'): this {
    this.conditions.push(
      `${column} >= fromUnixTimestamp64Milli({fromTs:Int64})`,
      `${column} < fromUnixTimestamp64Milli({toTs:Int64})`,
    )
    this.params.fromTs = fromTs
    this.params.toTs = toTs
    return this
  }

  /** `column = value` when the value is given; `column` is ours, never the caller's. */
  equal(column: string, name: string, value: string | undefined): this {
    if (value === undefined) return this
    this.conditions.push(`${column} = {${name}:String}`)
    this.params[name] = value
    return this
  }

  /** A condition with its own parameters, for the filters `equal` does not cover. */
  add(sql: string, params: Record<string, unknown> = {}): this {
    this.conditions.push(sql)
    Object.assign(this.params, params)
    return this
  }

  get sql(): string {
    return this.conditions.length > 0 ? this.conditions.join(' AND ') : '1'
  }
}
