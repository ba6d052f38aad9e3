import type { ClickHouseClient } from '@clickhouse/client'
import type { MetricSample } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { DIMENSION_ENVELOPE } from './row-mappers.js'
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
      // Which series: they hold the envelope, name and labels; points hold only time and value.
      const series = new QueryConditions()
        .equal('cluster', 'cluster', query.cluster)
        .equal('namespace', 'namespace', query.namespace)
        .equal('workload_kind', 'workloadKind', query.workloadKind)
        .equal('workload_name', 'workloadName', query.workloadName)
      const patterns = query.namePatterns ?? []
      series.add(
        `(name IN {names:Array(String)}${patterns.map((_, i) => ` OR match(name, {pattern${i}:String})`).join('')})`,
        { names: query.names, ...Object.fromEntries(patterns.map((p, i) => [`pattern${i}`, p])) },
      )
      const pointTimes = new QueryConditions().timeRange(query.fromTs, query.toTs, 'p.ts')
      const sampleTimes = new QueryConditions().timeRange(query.fromTs, query.toTs)
      const envelope = DIMENSION_ENVELOPE
      try {
        // Points of the chosen series, each joined to one row of it (ANY: a series row written again
        // before a merge joins once; every point has its series, the IN made sure),
        // then what metric_samples still holds from before migration 13.
        const result = await client.query({
          query: `SELECT * FROM (
              SELECT toUnixTimestamp64Milli(p.ts) AS m_ts, ${envelope.map((c) => `s.${c} AS ${c}`).join(', ')},
                s.name AS name, s.type AS type, p.value AS value, s.labels AS labels
              FROM ${database}.${TABLES.metricPoints} AS p
              ANY LEFT JOIN (SELECT * FROM ${database}.${TABLES.metricSeries} WHERE ${series.sql}) AS s
                ON p.series_id = s.series_id
              WHERE p.series_id IN (SELECT series_id FROM ${database}.${TABLES.metricSeries} WHERE ${series.sql})
                AND ${pointTimes.sql}
              UNION ALL
              SELECT toUnixTimestamp64Milli(ts) AS m_ts, ${envelope.join(', ')}, name, type, value, labels
              FROM ${database}.${TABLES.metrics}
              WHERE ${series.sql} AND ${sampleTimes.sql}
            )
            ORDER BY m_ts
            LIMIT {limit:UInt32}`,
          query_params: { ...series.params, ...pointTimes.params, limit: query.limit },
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
