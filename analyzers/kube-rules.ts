import type { Anomaly, EntityRef, KubeEvent, ObjectState, Severity } from '../core/index.js'

/**
 * Rules for what Kubernetes itself reports as wrong: Warning events by reason, and pod and node
 * states (OOM kills, crash loops, image pulls, evictions, NotReady nodes, pressure). Each finding
 * has a stable id, so the same occurrence seen again (a relist, a repeated state) is one anomaly.
 */

interface Rule {
  kind: string
  severity: Severity
  score: number
  /** Only when the message also matches (one reason can mean several things). */
  message?: RegExp
}

/** Warning reasons the kubelet, scheduler, controllers and node problem detector raise. */
const EVENT_RULES: Record<string, Rule[]> = {
  OOMKilling: [{ kind: 'oom_killed', severity: 'critical', score: 0.95 }],
  OOMKilled: [{ kind: 'oom_killed', severity: 'critical', score: 0.95 }],
  SystemOOM: [{ kind: 'oom_killed', severity: 'critical', score: 0.95 }],
  BackOff: [
    { kind: 'image_pull', severity: 'warning', score: 0.8, message: /pulling image|image/i },
    { kind: 'crash_loop', severity: 'critical', score: 0.9 },
  ],
  CrashLoopBackOff: [{ kind: 'crash_loop', severity: 'critical', score: 0.9 }],
  ErrImagePull: [{ kind: 'image_pull', severity: 'warning', score: 0.8 }],
  ImagePullBackOff: [{ kind: 'image_pull', severity: 'warning', score: 0.8 }],
  Failed: [
    { kind: 'image_pull', severity: 'warning', score: 0.8, message: /pull|image/i },
    { kind: 'container_failed', severity: 'warning', score: 0.7 },
  ],
  FailedScheduling: [{ kind: 'unschedulable', severity: 'warning', score: 0.75 }],
  Unhealthy: [
    { kind: 'liveness_failed', severity: 'warning', score: 0.7, message: /liveness/i },
    { kind: 'readiness_failed', severity: 'warning', score: 0.6 },
  ],
  ProbeError: [{ kind: 'probe_failed', severity: 'warning', score: 0.5 }],
  Evicted: [{ kind: 'evicted', severity: 'warning', score: 0.8 }],
  Evicting: [{ kind: 'evicted', severity: 'warning', score: 0.8 }],
  EvictionThresholdMet: [{ kind: 'node_pressure', severity: 'warning', score: 0.8 }],
  NodeHasInsufficientMemory: [{ kind: 'node_pressure', severity: 'warning', score: 0.8 }],
  NodeHasDiskPressure: [{ kind: 'node_pressure', severity: 'warning', score: 0.8 }],
  NodeHasInsufficientPID: [{ kind: 'node_pressure', severity: 'warning', score: 0.8 }],
  NodeNotReady: [{ kind: 'node_not_ready', severity: 'critical', score: 0.9 }],
  NetworkNotReady: [{ kind: 'network_not_ready', severity: 'critical', score: 0.85 }],
  FailedMount: [{ kind: 'volume', severity: 'warning', score: 0.7 }],
  FailedAttachVolume: [{ kind: 'volume', severity: 'warning', score: 0.7 }],
  FailedCreate: [{ kind: 'failed_create', severity: 'warning', score: 0.7 }],
  FailedCreatePodSandBox: [{ kind: 'sandbox', severity: 'warning', score: 0.7 }],
  FailedKillPod: [{ kind: 'container_failed', severity: 'warning', score: 0.6 }],
  FailedGetResourceMetric: [{ kind: 'autoscaler_blind', severity: 'warning', score: 0.5 }],
  ProgressDeadlineExceeded: [{ kind: 'rollout_stuck', severity: 'critical', score: 0.85 }],
}
const UNKNOWN_WARNING: Rule = { kind: 'warning_event', severity: 'info', score: 0.3 }

function entityOf(
  envelope: { cluster: string },
  ref: { kind: string; name: string; namespace?: string | undefined },
): EntityRef {
  const entity: EntityRef = { kind: ref.kind, name: ref.name, cluster: envelope.cluster }
  if (ref.namespace) entity.namespace = ref.namespace
  return entity
}

function withEnvelope(anomaly: Anomaly, from: KubeEvent | ObjectState): Anomaly {
  for (const key of ['namespace', 'workload', 'pod', 'container', 'node', 'service'] as const)
    if (from[key] !== undefined) (anomaly as Record<string, unknown>)[key] = from[key]
  return anomaly
}

/**
 * The anomaly a Warning event stands for (undefined for other events). Whether it is news is the
 * caller's question (see WarningEscalation).
 */
export function eventAnomaly(event: KubeEvent): Anomaly | undefined {
  if (event.type !== 'Warning') return undefined
  const rules = EVENT_RULES[event.reason]
  const rule = rules?.find((r) => !r.message || r.message.test(event.message)) ?? UNKNOWN_WARNING
  // A count that keeps doubling is a problem that does not go away.
  const severity: Severity = rule.severity === 'warning' && event.count >= 8 ? 'critical' : rule.severity
  return withEnvelope(
    {
      ts: event.ts,
      cluster: event.cluster,
      id: `kube-event:${event.uid}:${event.count}`,
      entity: entityOf(event, event.involvedObject),
      signal: 'event',
      kind: rule.kind,
      score: Math.min(1, rule.score + (event.count >= 8 ? 0.05 : 0)),
      severity,
      summary: `${event.involvedObject.kind} ${event.involvedObject.name}: ${event.reason}${event.count > 1 ? ` (x${event.count})` : ''}: ${event.message.slice(0, 200)}`,
      evidence: [
        {
          signal: 'event',
          ts: event.ts,
          description: `${event.reason}: ${event.message.slice(0, 500)}`,
          refId: event.uid,
        },
      ],
    },
    event,
  )
}

/** Anomalies in a pod's or node's state: OOM kills, crash loops, image pulls, eviction, NotReady, pressure. */
export function stateAnomalies(state: ObjectState): Anomaly[] {
  if (state.deleted) return []
  const found: Anomaly[] = []
  const entity = entityOf(state, state.resource)
  const add = (
    id: string,
    kind: string,
    severity: Severity,
    score: number,
    summary: string,
    description: string,
  ) =>
    found.push(
      withEnvelope(
        {
          ts: state.ts,
          cluster: state.cluster,
          id,
          entity,
          signal: 'event',
          kind,
          score,
          severity,
          summary: `${state.resource.kind} ${state.resource.name}: ${summary}`,
          evidence: [
            { signal: 'event', ts: state.ts, description, refId: state.resource.uid ?? state.resource.name },
          ],
        },
        state,
      ),
    )
  const uid = state.resource.uid ?? `${state.resource.namespace ?? ''}/${state.resource.name}`
  if (state.resource.kind === 'Pod') {
    for (const c of state.containers) {
      if (c.lastTerminationReason === 'OOMKilled' && c.restarts > 0)
        add(
          `oom:${uid}:${c.name}:${c.restarts}`,
          'oom_killed',
          'critical',
          0.95,
          `container ${c.name} was OOM-killed (restart ${c.restarts})`,
          `last termination OOMKilled, exit code ${c.lastExitCode ?? 137}`,
        )
      if (c.state === 'waiting' && c.reason === 'CrashLoopBackOff')
        add(
          `crash-loop:${uid}:${c.name}:${c.restarts}`,
          'crash_loop',
          'critical',
          0.9,
          `container ${c.name} is crash looping (${c.restarts} restarts)`,
          `waiting in CrashLoopBackOff; last exit ${c.lastTerminationReason ?? 'unknown'} (${c.lastExitCode ?? '?'})`,
        )
      if (c.state === 'waiting' && (c.reason === 'ImagePullBackOff' || c.reason === 'ErrImagePull'))
        add(
          `image-pull:${uid}:${c.name}`,
          'image_pull',
          'warning',
          0.8,
          `container ${c.name} cannot pull its image`,
          c.reason,
        )
    }
    if (state.reason === 'Evicted')
      add(
        `evicted:${uid}`,
        'evicted',
        'warning',
        0.8,
        'evicted',
        state.message ?? 'the kubelet evicted the pod',
      )
  } else if (state.resource.kind === 'Node') {
    if (state.phase === 'NotReady' || state.phase === 'Unknown')
      add(
        `node-not-ready:${uid}:${state.ts}`,
        'node_not_ready',
        'critical',
        0.9,
        `node is ${state.phase}`,
        state.reason ?? state.phase,
      )
    for (const c of state.conditions)
      if (c.status === 'True' && /Pressure$|NetworkUnavailable/.test(c.type))
        add(
          `node-pressure:${uid}:${c.type}:${state.ts}`,
          'node_pressure',
          'warning',
          0.8,
          `${c.type}`,
          c.reason ?? c.type,
        )
  }
  return found
}
