import { ServiceGraph, rankIncidentRootCauses, serviceNode, serviceNodesOf } from '../analyzers/index.js'
import type { Analyze } from '../api/routes/analysis.js'
import { workloadOfAggregatedName } from '../core/index.js'
import type { Storage } from '../storage/index.js'

/** How far back before the range changes and flows are read: a change shortly before is a cause. */
const LOOKBACK_MS = 15 * 60_000
/** Calls (either way) within which an anomaly is related to the service asked about. */
const HOPS = 3

/**
 * Ad-hoc analysis over stored findings: the anomalies in the range on the service or near it on
 * the service graph (rebuilt from the stored flows), and the changes made just before, ranked as
 * an incident would be.
 */
export function createAdHocAnalysis(storage: () => Storage): Analyze {
  return async (request) => {
    const store = storage()
    const [anomalies, changes, edges] = await Promise.all([
      store.anomalies.list({
        fromTs: request.fromTs,
        toTs: request.toTs,
        cluster: request.cluster,
        limit: 5_000,
      }),
      store.changes.list({
        fromTs: request.fromTs - LOOKBACK_MS,
        toTs: request.toTs,
        cluster: request.cluster,
        limit: 5_000,
      }),
      store.topology.flowGraph({
        fromTs: request.fromTs - LOOKBACK_MS,
        toTs: request.toTs,
        cluster: request.cluster,
      }),
    ])
    const graph = new ServiceGraph()
    for (const edge of edges)
      graph.addCall(
        serviceNode(edge.source.namespace, workloadOfAggregatedName(edge.source.name)),
        serviceNode(edge.destination.namespace, workloadOfAggregatedName(edge.destination.name)),
      )
    const target = (namespace: string | undefined): string =>
      serviceNode(namespace ?? request.namespace, request.service)
    const related = anomalies.filter((a) => {
      if (request.namespace !== undefined && a.namespace !== undefined && a.namespace !== request.namespace)
        return false
      return serviceNodesOf(a).some((node) => graph.near(node, target(a.namespace), HOPS))
    })
    const ranked = rankIncidentRootCauses({ anomalies: related, changes, graph })
    return {
      service: request.service,
      from: request.fromTs,
      to: request.toTs,
      anomalies: related.length,
      rootCauses: ranked.map((cause, i) => ({ rank: i + 1, ...cause })),
      ...(ranked.length === 0 && {
        note:
          related.length === 0
            ? `no anomaly on ${request.service} or near it in the range`
            : 'the related anomalies are too weak to name a cause',
      }),
    }
  }
}
