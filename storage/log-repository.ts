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

function whereClause(query: Omit<LogQuery, 'limit' | 'order'>): {
  sql: string
  params: Record<string, unknown>
} {
  const where = new QueryConditions()
    .timeRange(query.fromTs, query.toTs)
    .equal('cluster', 'cluster', query.cluster)
    .equal('namespace', 'namespace', query.namespace)
    .equal('pod', 'pod', query.pod)
    .equal('container', 'container', query.container)
    .equal('workload_name', 'workload', query.workload)
  if (query.levels && query.levels.length > 0)
    where.add('level IN {levels:Array(String)}', { levels: query.levels })
  if (query.text) where.add('lower(message) LIKE {pattern:String}', { pattern: likePattern(query.text) })
  return { sql: where.sql, params: where.params }
}

export function createLogRepository(client: ClickHouseClient, database: string): LogRepository {
  return {
    async search(query) {
      const where = whereClause(query)
      const direction = query.order === 'asc' ? 'ASC' : 'DESC'
      try {
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, cluster, namespace, workload_kind AS workloadKind,
              workload_name AS workloadName, pod, container, node, service, level, stream, source,
              template_id AS templateId, message, attributes
            FROM ${database}.${TABLES.logs}
            WHERE ${where.sql}
            ORDER BY ts ${direction}
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, limit: query.limit },
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
      const where = whereClause(query)
      try {
        const result = await client.query({
          query: `SELECT count() AS n FROM ${database}.${TABLES.logs} WHERE ${where.sql}`,
          query_params: where.params,
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
