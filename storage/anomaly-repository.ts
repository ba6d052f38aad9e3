import type { ClickHouseClient } from '@clickhouse/client'
import type { Anomaly } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface AnomalyQuery {
  fromTs: number
  toTs: number
  cluster?: string | undefined
  namespace?: string | undefined
  kind?: string | undefined
  entityName?: string | undefined
  minScore?: number | undefined
  limit: number
}

export interface AnomalyRepository {
  list(query: AnomalyQuery): Promise<Anomaly[]>
}

/** Stored anomalies, newest first; a repeated id (a redelivery) is returned once. */
export function createAnomalyRepository(client: ClickHouseClient, database: string): AnomalyRepository {
  return {
    async list(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs)
        .equal('cluster', 'cluster', query.cluster)
        .equal('namespace', 'namespace', query.namespace)
        .equal('kind', 'kind', query.kind)
        .equal('entity_name', 'entityName', query.entityName)
      if (query.minScore !== undefined) where.add('score >= {minScore:Float32}', { minScore: query.minScore })
      const params = { ...where.params, limit: query.limit }
      try {
        const result = await client.query({
          // Aliases are prefixed: ClickHouse resolves an alias before a column of the same name.
          query: `SELECT toUnixTimestamp64Milli(any(ts)) AS a_ts, any(cluster) AS a_cluster, any(namespace) AS a_namespace,
              any(workload_kind) AS a_workload_kind, any(workload_name) AS a_workload_name, any(pod) AS a_pod,
              any(container) AS a_container, any(node) AS a_node, any(service) AS a_service, id,
              any(entity_kind) AS a_entity_kind, any(entity_name) AS a_entity_name,
              any(entity_namespace) AS a_entity_namespace, any(signal) AS a_signal, any(kind) AS a_kind,
              any(score) AS a_score, any(severity) AS a_severity, any(summary) AS a_summary, any(evidence) AS a_evidence
            FROM ${database}.${TABLES.anomalies}
            WHERE ${where.sql}
            GROUP BY id
            ORDER BY a_ts DESC
            LIMIT {limit:UInt32}`,
          query_params: params,
          format: 'JSONEachRow',
        })
        const rows = await result.json<Record<string, string | number>>()
        return rows.map((r) => {
          const text = (key: string): string => String(r[`a_${key}`] ?? '')
          const anomaly: Anomaly = {
            ts: Number(r.a_ts),
            cluster: text('cluster'),
            id: String(r.id),
            entity: { kind: text('entity_kind'), name: text('entity_name'), cluster: text('cluster') },
            signal: text('signal') as Anomaly['signal'],
            kind: text('kind'),
            score: Number(r.a_score),
            severity: text('severity') as Anomaly['severity'],
            summary: text('summary'),
            evidence: JSON.parse(text('evidence')) as Anomaly['evidence'],
          }
          if (text('entity_namespace')) anomaly.entity.namespace = text('entity_namespace')
          if (text('namespace')) anomaly.namespace = text('namespace')
          if (text('workload_name'))
            anomaly.workload = { kind: text('workload_kind'), name: text('workload_name') }
          for (const key of ['pod', 'container', 'node', 'service'] as const)
            if (text(key)) anomaly[key] = text(key)
          return anomaly
        })
      } catch (error) {
        throw storageError(error, 'reading anomalies failed')
      }
    },
  }
}
