import type { Bus } from '../../bus/index.js'
import { TOPICS, type Anomaly, type Incident, type RootCause } from '../../core/index.js'

/**
 * Publishes what the analyzers would for a problem on one Deployment: its anomaly, then at once an
 * open incident and its top root cause, the Deployment (the remediator may see them in either
 * order). Answers the incident id. What remediation's tests and benchmark start from.
 */
export async function publishWorkloadIncident(
  bus: Bus,
  options: {
    id: string
    cluster: string
    namespace: string
    name: string
    anomalyKind: string
    pod?: string
    /** Called just before the incident is published (a benchmark's clock starts there). */
    beforeIncident?: () => void
  },
): Promise<string> {
  const { id, cluster, namespace, name } = options
  const now = Date.now()
  const workloadEntity = { kind: 'Deployment', name, namespace }
  const anomaly: Anomaly = {
    ts: now,
    cluster,
    namespace,
    workload: { kind: 'Deployment', name },
    ...(options.pod !== undefined && { pod: options.pod }),
    id: `an-${id}`,
    entity: options.pod !== undefined ? { kind: 'Pod', name: options.pod, namespace } : workloadEntity,
    signal: 'event',
    kind: options.anomalyKind,
    score: 0.9,
    severity: 'critical',
    summary: options.anomalyKind,
    evidence: [],
  }
  await bus.publish(TOPICS.anomalies, [{ key: cluster, value: anomaly }])
  const incident: Incident = {
    ts: now,
    cluster,
    namespace,
    id,
    status: 'open',
    severity: 'critical',
    title: `${options.anomalyKind} on ${name}`,
    openedAt: now,
    anomalyIds: [anomaly.id],
    entities: [anomaly.entity],
    version: 1,
  }
  const cause: RootCause = {
    ts: now,
    cluster,
    incidentId: id,
    rank: 1,
    entity: workloadEntity,
    score: 0.9,
    explanation: 'first to go wrong',
    evidence: [],
  }
  options.beforeIncident?.()
  await bus.publish(TOPICS.incidents, [{ key: `${cluster}/${id}`, value: incident }])
  await bus.publish(TOPICS.rootCauses, [{ key: `${cluster}/${id}`, value: cause }])
  return id
}
