import type { ClickHouseClient } from '@clickhouse/client'
import { storageError } from './clickhouse-client.js'
import { TABLES } from './tables.js'

export interface SignalCounts {
  logs: number
  metrics: number
  kubeEvents: number
  resourceChanges: number
  objectStates: number
  externalAlerts: number
  flows: number
}

/**
 * A kind may be counted in several tables: logs in lines and, from before lines, whole records;
 * metrics in points and, from before points, samples.
 */
const COUNTED: Array<[keyof SignalCounts, string]> = [
  ['logs', TABLES.logLines],
  ['logs', TABLES.logs],
  ['metrics', TABLES.metricPoints],
  ['metrics', TABLES.metrics],
  ['kubeEvents', TABLES.kubeEvents],
  ['resourceChanges', TABLES.resourceChanges],
  ['objectStates', TABLES.objectStates],
  ['externalAlerts', TABLES.externalAlerts],
  ['flows', TABLES.flows],
]

/** How many records of each signal kind arrived in a time range: what a user checks first. */
export async function countSignals(
  client: ClickHouseClient,
  database: string,
  range: { fromTs: number; toTs: number },
): Promise<SignalCounts> {
  const query = COUNTED.map(
    ([kind, table]) =>
      `SELECT '${kind}' AS kind, count() AS n FROM ${database}.${table} WHERE ts >= fromUnixTimestamp64Milli({fromTs:Int64}) AND ts < fromUnixTimestamp64Milli({toTs:Int64})`,
  ).join(' UNION ALL ')
  try {
    const result = await client.query({ query, query_params: range, format: 'JSONEachRow' })
    const counts: SignalCounts = {
      logs: 0,
      metrics: 0,
      kubeEvents: 0,
      resourceChanges: 0,
      objectStates: 0,
      externalAlerts: 0,
      flows: 0,
    }
    for (const row of await result.json<{ kind: keyof SignalCounts; n: number | string }>())
      counts[row.kind] += Number(row.n)
    return counts
  } catch (error) {
    throw storageError(error, 'counting signals failed')
  }
}
