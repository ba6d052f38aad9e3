import type { ClickHouseClient } from '@clickhouse/client'
import type { Action } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface ActionQuery {
  fromTs: number
  toTs: number
  incidentId?: string | undefined
  policy?: string | undefined
  status?: Action['status'] | undefined
  id?: string | undefined
  limit: number
}

export interface ActionRepository {
  /** The audit log: every decision on every action in the range, newest first. */
  log(query: ActionQuery): Promise<Action[]>
}

export function createActionRepository(client: ClickHouseClient, database: string): ActionRepository {
  return {
    async log(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs)
        .equal('incident_id', 'incidentId', query.incidentId)
        .equal('policy', 'policy', query.policy)
        .equal('status', 'status', query.status)
        .equal('id', 'id', query.id)
      try {
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS a_ts, cluster, namespace, attributes, id, incident_id, policy,
              kind, target_kind, target_name, target_namespace, params, status, reason, actor
            FROM ${database}.${TABLES.actionLog}
            WHERE ${where.sql}
            ORDER BY ts DESC, id
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, limit: query.limit },
          format: 'JSONEachRow',
        })
        return (await result.json<Record<string, unknown>>()).map((r) => {
          const action: Action = {
            ts: Number(r.a_ts),
            cluster: columnText(r.cluster),
            id: columnText(r.id),
            kind: r.kind as Action['kind'],
            target: {
              kind: columnText(r.target_kind),
              name: columnText(r.target_name),
              ...(r.target_namespace ? { namespace: columnText(r.target_namespace) } : {}),
            },
            params: r.params as Record<string, string>,
            status: r.status as Action['status'],
            reason: columnText(r.reason),
          }
          if (r.namespace) action.namespace = columnText(r.namespace)
          if (r.incident_id) action.incidentId = columnText(r.incident_id)
          if (r.policy) action.policy = columnText(r.policy)
          if (r.actor) action.actor = columnText(r.actor)
          const attributes = r.attributes as Record<string, string>
          if (Object.keys(attributes).length > 0) action.attributes = attributes
          return action
        })
      } catch (error) {
        throw storageError(error, 'reading the remediation audit log failed')
      }
    },
  }
}
