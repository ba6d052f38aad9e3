import type { ClickHouseClient } from '@clickhouse/client'
import type { Alert, AlertDelivery, Silence } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { columnText } from './column-text.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface AlertQuery {
  fromTs: number
  toTs: number
  status?: 'firing' | 'resolved' | undefined
  limit: number
}

export interface DeliveryQuery {
  fromTs: number
  toTs: number
  receiver?: string | undefined
  status?: AlertDelivery['status'] | undefined
  incidentId?: string | undefined
  limit: number
}

export interface AlertRepository {
  /** Alerts Argus raised (updated in the range), each at its latest state, newest first. */
  alerts(query: AlertQuery): Promise<Alert[]>
  /** The delivery log: every outcome of every notification, newest first. */
  deliveries(query: DeliveryQuery): Promise<AlertDelivery[]>
  /** Stores a silence version; resolves when ClickHouse has it. */
  saveSilence(silence: Silence): Promise<void>
  /** Every silence at its latest version (expired ones included), newest first. */
  silences(): Promise<Silence[]>
  silence(id: string): Promise<Silence | undefined>
}

export function createAlertRepository(client: ClickHouseClient, database: string): AlertRepository {
  async function silences(where: QueryConditions): Promise<Silence[]> {
    const result = await client.query({
      query: `SELECT id, matchers, toUnixTimestamp64Milli(starts_at) AS s_starts_at,
          toUnixTimestamp64Milli(ends_at) AS s_ends_at, created_by, comment,
          toUnixTimestamp64Milli(updated_at) AS s_updated_at
        FROM ${database}.${TABLES.silences} FINAL
        WHERE ${where.sql}
        ORDER BY s_updated_at DESC
        LIMIT 10000`,
      query_params: where.params,
      format: 'JSONEachRow',
    })
    return (await result.json<Record<string, unknown>>()).map((r) => ({
      id: columnText(r.id),
      matchers: r.matchers as string[],
      startsAt: Number(r.s_starts_at),
      endsAt: Number(r.s_ends_at),
      createdBy: columnText(r.created_by),
      comment: columnText(r.comment),
      updatedAt: Number(r.s_updated_at),
    }))
  }

  return {
    async alerts(query) {
      const where = new QueryConditions().timeRange(query.fromTs, query.toTs)
      try {
        const result = await client.query({
          // Aliases are prefixed: ClickHouse resolves an alias before a column of the same name.
          query: `SELECT fingerprint, toUnixTimestamp64Milli(max(ts)) AS a_ts, argMax(cluster, ts) AS a_cluster,
              argMax(status, ts) AS a_status, argMax(labels, ts) AS a_labels,
              argMax(annotations, ts) AS a_annotations,
              toUnixTimestamp64Milli(argMax(starts_at, ts)) AS a_starts_at,
              toUnixTimestamp64Milli(argMax(ends_at, ts)) AS a_ends_at, argMax(incident_id, ts) AS a_incident
            FROM ${database}.${TABLES.alerts}
            WHERE ${where.sql}
            GROUP BY fingerprint
            ${query.status ? 'HAVING a_status = {status:String}' : ''}
            ORDER BY a_ts DESC
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, status: query.status, limit: query.limit },
          format: 'JSONEachRow',
        })
        return (await result.json<Record<string, unknown>>()).map((r) => {
          const alert: Alert = {
            ts: Number(r.a_ts),
            cluster: columnText(r.a_cluster),
            fingerprint: columnText(r.fingerprint),
            status: r.a_status === 'resolved' ? 'resolved' : 'firing',
            labels: r.a_labels as Record<string, string>,
            annotations: r.a_annotations as Record<string, string>,
            startsAt: Number(r.a_starts_at),
          }
          if (r.a_ends_at !== null && r.a_ends_at !== undefined) alert.endsAt = Number(r.a_ends_at)
          if (r.a_incident) alert.incidentId = columnText(r.a_incident)
          return alert
        })
      } catch (error) {
        throw storageError(error, 'reading alerts failed')
      }
    },

    async deliveries(query) {
      const where = new QueryConditions()
        .timeRange(query.fromTs, query.toTs)
        .equal('receiver', 'receiver', query.receiver)
        .equal('status', 'status', query.status)
      if (query.incidentId !== undefined)
        where.add('has(incident_ids, {incidentId:String})', { incidentId: query.incidentId })
      try {
        const result = await client.query({
          query: `SELECT toUnixTimestamp64Milli(ts) AS d_ts, cluster, receiver, group_key, sequence,
              idempotency_key, status, notification_status, attempts, reason, status_code, fingerprints,
              incident_ids
            FROM ${database}.${TABLES.alertDeliveries}
            WHERE ${where.sql}
            ORDER BY ts DESC
            LIMIT {limit:UInt32}`,
          query_params: { ...where.params, limit: query.limit },
          format: 'JSONEachRow',
        })
        return (await result.json<Record<string, unknown>>()).map((r) => {
          const delivery: AlertDelivery = {
            ts: Number(r.d_ts),
            cluster: columnText(r.cluster),
            receiver: columnText(r.receiver),
            groupKey: columnText(r.group_key),
            sequence: Number(r.sequence),
            idempotencyKey: columnText(r.idempotency_key),
            status: r.status as AlertDelivery['status'],
            notificationStatus: r.notification_status === 'resolved' ? 'resolved' : 'firing',
            attempts: Number(r.attempts),
            fingerprints: r.fingerprints as string[],
            incidentIds: r.incident_ids as string[],
          }
          if (r.reason) delivery.reason = columnText(r.reason)
          if (r.status_code !== null && r.status_code !== undefined)
            delivery.statusCode = Number(r.status_code)
          return delivery
        })
      } catch (error) {
        throw storageError(error, 'reading the delivery log failed')
      }
    },

    async saveSilence(silence) {
      try {
        await client.insert({
          table: `${database}.${TABLES.silences}`,
          values: [
            {
              id: silence.id,
              matchers: silence.matchers,
              starts_at: silence.startsAt,
              ends_at: silence.endsAt,
              created_by: silence.createdBy,
              comment: silence.comment,
              updated_at: silence.updatedAt,
            },
          ],
          // Epoch milliseconds go into DateTime64(3) as they are, as the topic writer's rows do.
          format: 'JSONEachRow',
        })
      } catch (error) {
        throw storageError(error, 'storing the silence failed')
      }
    },

    async silences() {
      try {
        return await silences(new QueryConditions())
      } catch (error) {
        throw storageError(error, 'reading silences failed')
      }
    },

    async silence(id) {
      try {
        return (await silences(new QueryConditions().equal('id', 'id', id)))[0]
      } catch (error) {
        throw storageError(error, 'reading the silence failed')
      }
    },
  }
}
