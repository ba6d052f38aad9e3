import type { ClickHouseClient } from '@clickhouse/client'
import type { LogLevel } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface LogQuery {
  fromTs: number
  toTs: number
  cluster?: string | undefined
  namespace?: string | undefined
  pod?: string | undefined
  container?: string | undefined
  workload?: string | undefined
  levels?: readonly LogLevel[] | undefined
  /** Case-insensitive substring match on the message. */
  text?: string | undefined
  limit: number
  order: 'asc' | 'desc'
}

export interface StoredLog {
  ts: number
  cluster: string
  namespace: string
  workloadKind: string
  workloadName: string
  pod: string
  container: string
  node: string
  service: string
  level: string
  stream: string
  source: string
  templateId: string
  message: string
  attributes: Record<string, string>
}

export interface LogRepository {
  search(query: LogQuery): Promise<StoredLog[]>
  count(query: Omit<LogQuery, 'limit' | 'order'>): Promise<number>
}

/** `LIKE` treats `%`, `_` and `\` specially; escape them so user text matches literally. */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** Conditions on what a stream holds (envelope), and on what each line holds (time, level, text). */
function conditions(query: Omit<LogQuery, 'limit' | 'order'>): {
  streams: QueryConditions
  lines: QueryConditions
} {
  const streams = new QueryConditions()
    .equal('cluster', 'cluster', query.cluster)
    .equal('namespace', 'namespace', query.namespace)
    .equal('pod', 'pod', query.pod)
    .equal('container', 'container', query.container)
    .equal('workload_name', 'workload', query.workload)
  const lines = new QueryConditions().timeRange(query.fromTs, query.toTs)
  if (query.levels && query.levels.length > 0)
    lines.add('level IN {levels:Array(String)}', { levels: query.levels })
  if (query.text) lines.add('lower(message) LIKE {pattern:String}', { pattern: likePattern(query.text) })
  return { streams, lines }
}

/**
 * The lines (log_lines, from migration 14) matching a query: its stream conditions pick stream ids
 * (the table's sort key), its line conditions the rest. `tail` is appended (ORDER BY, LIMIT).
 */
function matchingLines(
  database: string,
  { streams, lines }: ReturnType<typeof conditions>,
  columns: string,
  tail = '',
): string {
  const byStream =
    streams.sql === '1'
      ? ''
      : `stream_id IN (SELECT stream_id FROM ${database}.${TABLES.logStreams} WHERE ${streams.sql}) AND `
  return `SELECT ${columns} FROM ${database}.${TABLES.logLines} WHERE ${byStream}${lines.sql} ${tail}`
}

export function createLogRepository(client: ClickHouseClient, database: string): LogRepository {
  return {
    async search(query) {
      const where = conditions(query)
      const direction = query.order === 'asc' ? 'ASC' : 'DESC'
      const newest = `ORDER BY ts ${direction} LIMIT {limit:UInt32}`
      try {
        // The newest (or oldest) matching lines first, then their streams joined to those alone
        // (ANY: a stream row written again before a merge joins once); then what `logs` holds from
        // before migration 14, whole.
        const result = await client.query({
          query: `SELECT * FROM (
              SELECT toUnixTimestamp64Milli(l.ts) AS ts_ms, s.cluster AS cluster, s.namespace AS namespace,
                s.workload_kind AS workloadKind, s.workload_name AS workloadName, s.pod AS pod,
                s.container AS container, s.node AS node, s.service AS service, l.level AS level,
                s.stream AS stream, s.source AS source, l.template_id AS templateId, l.message AS message,
                mapUpdate(s.attributes, l.attributes) AS attributes
              FROM (${matchingLines(database, where, '*', newest)}) AS l
              ANY LEFT JOIN (SELECT * FROM ${database}.${TABLES.logStreams} WHERE ${where.streams.sql}) AS s
                ON l.stream_id = s.stream_id
              UNION ALL
              SELECT toUnixTimestamp64Milli(ts) AS ts_ms, cluster, namespace, workload_kind AS workloadKind,
                workload_name AS workloadName, pod, container, node, service, level, stream, source,
                template_id AS templateId, message, attributes
              FROM ${database}.${TABLES.logs}
              WHERE ${where.streams.sql} AND ${where.lines.sql}
              ${newest}
            )
            ORDER BY ts_ms ${direction}
            LIMIT {limit:UInt32}`,
          query_params: { ...where.streams.params, ...where.lines.params, limit: query.limit },
          format: 'JSONEachRow',
        })
        // The alias must differ from the column: ClickHouse resolves SELECT aliases inside WHERE.
        const rows = await result.json<Omit<StoredLog, 'ts'> & { ts_ms: number | string }>()
        return rows.map(({ ts_ms, ...row }) => ({ ts: Number(ts_ms), ...row }))
      } catch (error) {
        throw storageError(error, 'log search failed')
      }
    },
    async count(query) {
      const where = conditions(query)
      try {
        const result = await client.query({
          query: `SELECT sum(n) AS n FROM (
              ${matchingLines(database, where, 'count() AS n')}
              UNION ALL
              SELECT count() AS n FROM ${database}.${TABLES.logs} WHERE ${where.streams.sql} AND ${where.lines.sql}
            )`,
          query_params: { ...where.streams.params, ...where.lines.params },
          format: 'JSONEachRow',
        })
        const [row] = await result.json<{ n: number | string }>()
        return Number(row?.n ?? 0)
      } catch (error) {
        throw storageError(error, 'log count failed')
      }
    },
  }
}
