import type { ClickHouseClient } from '@clickhouse/client'
import type { MetricSample } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface WorkloadSamplesQuery {
  fromTs: number
  toTs: number
  cluster: string
  namespace: string
  workloadKind: string
  workloadName: string
  /** Exact metric names, and RE2 patterns a name may match instead. */
  names: readonly string[]
  namePatterns?: readonly string[]
  limit: number
}

export interface MetricRepository {
  /** One workload's samples of the named metrics, oldest first: history to replay or train on. */
  workloadSamples(query: WorkloadSamplesQuery): Promise<MetricSample[]>
}

export function createMetricRepository(client: ClickHouseClient, database: string): MetricRepository {
  return {
    async workloadSamples(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs)
        .equal('cluster', 'cluster', query.cluster)
        .equal('namespace', 'namespace', query.namespace)
        .equal('workload_kind', 'workloadKind', query.workloadKind)
        .equal('workload_name', 'workloadName', query.workloadName)
      const patterns = query.namePatterns ?? []
      where.add(
        `(name IN {names:Array(String)}${patterns.map((_, i) => ` OR match(name, {pattern${i}:String})`).join('')})`,
        { names: query.names, ...Object.fromEntries(patterns.map((p, i) => [`pattern${i}`, p])) },
      )
      try {
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS m_ts, cluster, namespace, workload_kind, workload_name, pod,
              container, node, service, name, type, value, labels
            FROM ${database}.${TABLES.metrics}
            WHERE ${where.sql}
            ORDER BY m_ts
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, limit: query.limit },
          format: 'JSONEachRow',
        })
        const rows = await result.json<Record<string, unknown>>()
        return rows.map((r) => {
          const text = (key: string): string => columnText(r[key])
          const sample: MetricSample = {
            ts: Number(r.m_ts),
            cluster: text('cluster'),
            name: text('name'),
            value: Number(r.value),
            labels: (r.labels ?? {}) as Record<string, string>,
          }
          if (text('type')) sample.type = text('type') as NonNullable<MetricSample['type']>
          if (text('namespace')) sample.namespace = text('namespace')
          if (text('workload_name'))
            sample.workload = { kind: text('workload_kind'), name: text('workload_name') }
          for (const key of ['pod', 'container', 'node', 'service'] as const)
            if (text(key)) sample[key] = text(key)
          return sample
        })
      } catch (error) {
        throw storageError(error, 'reading metric history')
      }
    },
  }
}
