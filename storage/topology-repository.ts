import type { ClickHouseClient } from '@clickhouse/client'
import { storageError } from './clickhouse-client.js'
import { QueryConditions } from './query-conditions.js'
import { TABLES } from './tables.js'

export interface FlowGraphQuery {
  fromTs: number
  toTs: number
  cluster?: string | undefined
  namespace?: string | undefined
}

/** One edge of the service dependency graph: who talks to whom, how much, how often refused. */
export interface FlowEdge {
  source: { namespace: string; name: string }
  destination: { namespace: string; name: string; service: string; port: number; protocol: string }
  flows: number
  deniedFlows: number
  bytes: number
  packets: number
  /** Minutes in the range with traffic on this edge. */
  activeMinutes: number
  firstMinute: number
  lastMinute: number
  /** Per-minute flows and denied flows, oldest first. */
  perMinute: Array<{ minute: number; flows: number; deniedFlows: number }>
}

export interface TopologyRepository {
  flowGraph(query: FlowGraphQuery): Promise<FlowEdge[]>
}

/**
 * The service dependency graph from Calico flows (inner aliases are prefixed: ClickHouse resolves
 * an alias before a column of the same name), read from the one-minute rollup (`flows_1m`)
 * that a materialized view keeps as flows arrive. Endpoints are Calico's aggregated names (the
 * workload prefix, e.g. `cart-6d4cf56db6-*`).
 */
export function createTopologyRepository(client: ClickHouseClient, database: string): TopologyRepository {
  return {
    async flowGraph(query) {
      const where = new QueryConditions()
        .add('minute >= toStartOfMinute(fromUnixTimestamp64Milli({fromTs:Int64}))', { fromTs: query.fromTs })
        .add('minute < fromUnixTimestamp64Milli({toTs:Int64})', { toTs: query.toTs })
        .equal('cluster', 'cluster', query.cluster)
      if (query.namespace !== undefined)
        where.add('(src_namespace = {namespace:String} OR dst_namespace = {namespace:String})', {
          namespace: query.namespace,
        })
      try {
        const result = await client.query({
          query: `SELECT src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol,
              sum(m_flows) AS flows, sum(m_denied) AS denied, sum(m_bytes) AS bytes, sum(m_packets) AS packets,
              groupArray((toUnixTimestamp(minute) * 1000, m_flows, m_denied)) AS minutes
            FROM (
              SELECT src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol, minute,
                sum(flows) AS m_flows, sum(denied_flows) AS m_denied, sum(bytes) AS m_bytes, sum(packets) AS m_packets
              FROM ${database}.${TABLES.flows1m}
              WHERE ${where.sql}
              GROUP BY src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol, minute
              ORDER BY minute
            )
            GROUP BY src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol
            ORDER BY flows DESC
            LIMIT 10000`,
          query_params: where.params,
          format: 'JSONEachRow',
        })
        const rows = await result.json<{
          src_namespace: string
          src_aggregated: string
          dst_namespace: string
          dst_aggregated: string
          dst_service_name: string
          dst_port: number
          protocol: string
          flows: string | number
          denied: string | number
          bytes: string | number
          packets: string | number
          minutes: Array<[string | number, string | number, string | number]>
        }>()
        return rows.map((r) => {
          const perMinute = r.minutes.map(([minute, flows, denied]) => ({
            minute: Number(minute),
            flows: Number(flows),
            deniedFlows: Number(denied),
          }))
          return {
            source: { namespace: r.src_namespace, name: r.src_aggregated },
            destination: {
              namespace: r.dst_namespace,
              name: r.dst_aggregated,
              service: r.dst_service_name,
              port: Number(r.dst_port),
              protocol: r.protocol,
            },
            flows: Number(r.flows),
            deniedFlows: Number(r.denied),
            bytes: Number(r.bytes),
            packets: Number(r.packets),
            activeMinutes: perMinute.length,
            firstMinute: perMinute[0]?.minute ?? 0,
            lastMinute: perMinute[perMinute.length - 1]?.minute ?? 0,
            perMinute,
          }
        })
      } catch (error) {
        throw storageError(error, 'reading the flow graph failed')
      }
    },
  }
}
