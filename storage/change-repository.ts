import type { ClickHouseClient } from '@clickhouse/client'
import type { ResourceChange } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface ChangeQuery {
  fromTs: number
  toTs: number
  cluster?: string | undefined
  namespace?: string | undefined
  limit: number
}

export interface ChangeRepository {
  /** Changes to cluster objects in the range, oldest first (a relisted change once). */
  list(query: ChangeQuery): Promise<ResourceChange[]>
}

export function createChangeRepository(client: ClickHouseClient, database: string): ChangeRepository {
  return {
    async list(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs)
        .equal('cluster', 'cluster', query.cluster)
        .equal('namespace', 'namespace', query.namespace)
      try {
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS c_ts, cluster, namespace, workload_kind, workload_name,
              change_kind, resource_kind, resource_name, resource_uid, revision, from_replicas, to_replicas,
              images, diff, actor
            FROM ${database}.${TABLES.resourceChanges} FINAL
            WHERE ${where.sql}
            ORDER BY c_ts
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, limit: query.limit },
          format: 'JSONEachRow',
        })
        const rows = await result.json<Record<string, unknown>>()
        return rows.map((r) => {
          const change: ResourceChange = {
            ts: Number(r.c_ts),
            cluster: columnText(r.cluster),
            changeKind: columnText(r.change_kind) as ResourceChange['changeKind'],
            resource: { kind: columnText(r.resource_kind), name: columnText(r.resource_name) },
          }
          if (columnText(r.namespace)) {
            change.namespace = columnText(r.namespace)
            change.resource.namespace = columnText(r.namespace)
          }
          if (columnText(r.resource_uid)) change.resource.uid = columnText(r.resource_uid)
          if (columnText(r.workload_name))
            change.workload = { kind: columnText(r.workload_kind), name: columnText(r.workload_name) }
          if (columnText(r.revision)) change.revision = columnText(r.revision)
          if (typeof r.from_replicas === 'number') change.fromReplicas = r.from_replicas
          if (typeof r.to_replicas === 'number') change.toReplicas = r.to_replicas
          const pairs = (value: unknown): Array<Record<string, string>> =>
            Array.isArray(value) ? (value as Array<Record<string, string>>) : []
          const images = pairs(r.images).map((i) => ({
            container: columnText(i.container),
            ...(columnText(i.from) && { from: columnText(i.from) }),
            ...(columnText(i.to) && { to: columnText(i.to) }),
          }))
          if (images.length > 0) change.images = images
          const diff = pairs(r.diff).map((d) => ({
            path: columnText(d.path),
            ...(columnText(d.from) && { from: columnText(d.from) }),
            ...(columnText(d.to) && { to: columnText(d.to) }),
          }))
          if (diff.length > 0) change.diff = diff
          if (columnText(r.actor)) change.actor = columnText(r.actor)
          return change
        })
      } catch (error) {
        throw storageError(error, 'reading changes failed')
      }
    },
  }
}
