import { ClusterTopology, StateReporter, podState, type RawIntake } from '../ingest/index.js'
import type { Logger } from '../core/index.js'
import type { SimTick } from '../sim/index.js'

/**
 * Feeds simulator steps through the ingest entry points a real cluster's telemetry takes: logs as
 * fluentd sends them, events and object updates as watches deliver them, flows as Calico logs
 * them, kubelet scrapes as text, and pod states built the collector's way (ownership and services
 * from ReplicaSets and EndpointSlices).
 */
export function createSimFeed(
  intake: RawIntake,
  cluster: string,
  logger: Logger,
): (tick: SimTick) => Promise<void> {
  const topology = new ClusterTopology()
  const reporter = new StateReporter(intake)

  function podStates(tick: SimTick): Promise<number> {
    for (const replicaSet of tick.replicaSets) topology.setReplicaSet(replicaSet, false)
    for (const slice of tick.endpointSlices) topology.setEndpointSlice(slice, false)
    return reporter.report(
      tick.pods.map(({ object, deleted }) =>
        podState(object, topology.placementOf(object), { cluster, now: tick.ts, deleted: deleted ?? false }),
      ),
    )
  }

  return async (tick) => {
    const results = await Promise.all([
      intake.fluentRecords(tick.logs, 'simulator'),
      intake.kubeEvents(tick.events),
      intake.objectUpdates(tick.objectUpdates),
      intake.calicoFlows(tick.flows),
      podStates(tick).then(() => ({ accepted: 0, rejected: [] })),
      ...tick.scrapes.map((scrape) => intake.prometheusText(scrape.text, { node: scrape.node, ts: tick.ts })),
    ])
    const rejected = results.reduce((n, r) => n + r.rejected.length, 0)
    if (rejected > 0) logger.warn({ rejected }, 'simulated telemetry was rejected by ingest')
  }
}
