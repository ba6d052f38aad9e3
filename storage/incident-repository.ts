import type { ClickHouseClient } from '@clickhouse/client'
import type { EntityRef, Evidence, Incident, RootCause } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface IncidentQuery {
  fromTs: number
  toTs: number
  cluster?: string | undefined
  status?: 'open' | 'resolved' | undefined
  severity?: string | undefined
  limit: number
}

export interface IncidentRepository {
  /** Incidents opened in the range, newest first, each at its latest version. */
  list(query: IncidentQuery): Promise<Incident[]>
  /** One incident at its latest version, with its latest root-cause ranking (best first). */
  get(id: string): Promise<{ incident: Incident; rootCauses: RootCause[] } | undefined>
}

/** Incidents are stored as versions; the newest version of each is the incident. */
export function createIncidentRepository(client: ClickHouseClient, database: string): IncidentRepository {
  async function incidents(where: QueryConditions, limit: number): Promise<Incident[]> {
    const result = await client.query({
      // Aliases are prefixed: ClickHouse resolves an alias before a column of the same name.
      query: `SELECT id, max(version) AS i_version,
          toUnixTimestamp64Milli(argMax(ts, version)) AS i_ts, argMax(cluster, version) AS i_cluster,
          argMax(namespace, version) AS i_namespace, argMax(status, version) AS i_status,
          argMax(severity, version) AS i_severity, argMax(title, version) AS i_title,
          toUnixTimestamp64Milli(argMax(opened_at, version)) AS i_opened_at,
          toUnixTimestamp64Milli(argMax(resolved_at, version)) AS i_resolved_at,
          argMax(anomaly_ids, version) AS i_anomaly_ids, argMax(entities, version) AS i_entities
        FROM ${database}.${TABLES.incidents}
        WHERE ${where.sql}
        GROUP BY id
        ORDER BY i_opened_at DESC
        LIMIT {limit:UInt32}`,
      query_params: { ...where.params, limit },
      format: 'JSONEachRow',
    })
    const rows = await result.json<Record<string, unknown>>()
    return rows.map((r) => {
      const incident: Incident = {
        ts: Number(r.i_ts),
        cluster: columnText(r.i_cluster),
        id: columnText(r.id),
        status: r.i_status === 'resolved' ? 'resolved' : 'open',
        severity: r.i_severity as Incident['severity'],
        title: columnText(r.i_title),
        openedAt: Number(r.i_opened_at),
        anomalyIds: r.i_anomaly_ids as string[],
        entities: JSON.parse(columnText(r.i_entities)) as EntityRef[],
        version: Number(r.i_version),
      }
      if (r.i_namespace) incident.namespace = columnText(r.i_namespace)
      if (r.i_resolved_at !== null && r.i_resolved_at !== undefined)
        incident.resolvedAt = Number(r.i_resolved_at)
      return incident
    })
  }

  return {
    async list(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs, 'opened_at')
        .equal('cluster', 'cluster', query.cluster)
      try {
        let found = await incidents(where, query.limit)
        // Status and severity are the latest version's: filtered after choosing it.
        if (query.status) found = found.filter((i) => i.status === query.status)
        if (query.severity) found = found.filter((i) => i.severity === query.severity)
        return found
      } catch (error) {
        throw storageError(error, 'reading incidents failed')
      }
    },
    async get(id) {
      try {
        const [incident] = await incidents(new QueryConditions().equal('id', 'id', id), 1)
        if (!incident) return undefined
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS r_ts, cluster, namespace, rank, entity_kind, entity_name,
              entity_namespace, score, explanation, evidence
            FROM ${database}.${TABLES.rootCauses} FINAL
            WHERE incident_id = {id:String}
              AND ts = (SELECT max(ts) FROM ${database}.${TABLES.rootCauses} WHERE incident_id = {id:String})
            ORDER BY rank`,
          query_params: { id },
          format: 'JSONEachRow',
        })
        const rows = await result.json<Record<string, unknown>>()
        const rootCauses = rows.map((r) => {
          const entity: EntityRef = { kind: columnText(r.entity_kind), name: columnText(r.entity_name) }
          if (r.entity_namespace) entity.namespace = columnText(r.entity_namespace)
          const cause: RootCause = {
            ts: Number(r.r_ts),
            cluster: columnText(r.cluster),
            incidentId: id,
            rank: Number(r.rank),
            entity,
            score: Number(r.score),
            explanation: columnText(r.explanation),
            evidence: JSON.parse(columnText(r.evidence)) as Evidence[],
          }
          if (r.namespace) cause.namespace = columnText(r.namespace)
          return cause
        })
        return { incident, rootCauses }
      } catch (error) {
        throw storageError(error, 'reading an incident failed')
      }
    },
  }
}
