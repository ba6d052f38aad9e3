import { describe, expect, it } from 'vitest'
import { WarningEscalation, eventAnomaly, stateAnomalies } from '../../../analyzers/index.js'
import type { KubeEvent, ObjectState } from '../../../core/index.js'

const event = (
  reason: string,
  message: string,
  count = 1,
  type: 'Warning' | 'Normal' = 'Warning',
): KubeEvent => ({
  ts: 1_700_000_000_000,
  cluster: 'c1',
  namespace: 'shop',
  pod: 'cart-6d4cf56db6-x7k2p',
  workload: { kind: 'Deployment', name: 'cart' },
  uid: `e-${reason}`,
  type,
  reason,
  message,
  involvedObject: { kind: 'Pod', name: 'cart-6d4cf56db6-x7k2p', namespace: 'shop' },
  count,
})

const pod = (containers: ObjectState['containers'], extra: Partial<ObjectState> = {}): ObjectState => ({
  ts: 1_700_000_000_000,
  cluster: 'c1',
  namespace: 'shop',
  pod: 'cart-1',
  resource: { kind: 'Pod', name: 'cart-1', namespace: 'shop', uid: 'u1' },
  phase: 'Running',
  deleted: false,
  conditions: [],
  containers,
  owners: [],
  services: [],
  ...extra,
})

describe('Kubernetes rules', () => {
  it('turns Warning reasons into anomalies with kinds and severities, and ignores Normal events', () => {
    expect(
      eventAnomaly(event('BackOff', 'Back-off restarting failed container cart in pod cart')),
    ).toMatchObject({
      kind: 'crash_loop',
      severity: 'critical',
      signal: 'event',
      entity: { kind: 'Pod', name: 'cart-6d4cf56db6-x7k2p', namespace: 'shop', cluster: 'c1' },
      workload: { kind: 'Deployment', name: 'cart' },
    })
    expect(eventAnomaly(event('BackOff', 'Back-off pulling image "cart:9"'))?.kind).toBe('image_pull')
    expect(eventAnomaly(event('FailedScheduling', '0/3 nodes are available'))?.kind).toBe('unschedulable')
    expect(eventAnomaly(event('Unhealthy', 'Liveness probe failed: HTTP 500'))?.kind).toBe('liveness_failed')
    expect(eventAnomaly(event('Unhealthy', 'Readiness probe failed'))?.kind).toBe('readiness_failed')
    expect(eventAnomaly(event('SomethingNew', 'odd'))).toMatchObject({
      kind: 'warning_event',
      severity: 'info',
    })
    expect(eventAnomaly(event('Scheduled', 'ok', 1, 'Normal'))).toBeUndefined()
  })

  it('reports a repeating event when its count doubles, escalating a persistent warning', () => {
    const escalation = new WarningEscalation()
    const counts = [1, 2, 3, 4, 5, 8, 9, 16].filter((n) =>
      escalation.isNews(event('FailedScheduling', 'no nodes', n)),
    )
    expect(counts).toEqual([1, 2, 4, 8, 16])
    expect(eventAnomaly(event('FailedScheduling', 'no nodes', 8))?.severity).toBe('critical')
    expect(eventAnomaly(event('FailedScheduling', 'no nodes', 2))?.severity).toBe('warning')
  })

  it('reports a warning first seen at any count, and not again for each new event of the same object and reason', () => {
    const escalation = new WarningEscalation({ quietMs: 60_000 })
    // Argus started while the crash loop was already at count 5: that is news.
    expect(escalation.isNews(event('BackOff', 'Back-off restarting', 5))).toBe(true)
    expect(escalation.isNews(event('BackOff', 'Back-off restarting', 6))).toBe(false)
    expect(escalation.isNews(event('BackOff', 'Back-off restarting', 8))).toBe(true)
    // The same warning recorded as a new event (new uid, count 1): the same ongoing problem.
    expect(escalation.isNews({ ...event('BackOff', 'Back-off restarting', 1), uid: 'another' })).toBe(false)
    // Another reason on the same pod, or the same reason on another pod, is news.
    expect(escalation.isNews(event('Unhealthy', 'Readiness probe failed', 3))).toBe(true)
    const other = event('BackOff', 'Back-off restarting', 3)
    other.involvedObject = { ...other.involvedObject, name: 'cart-6d4cf56db6-zzzzz' }
    expect(escalation.isNews(other)).toBe(true)
    // After a quiet spell it is news again, from its count then.
    const later = { ...event('BackOff', 'Back-off restarting', 2), ts: 1_700_000_000_000 + 120_000 }
    expect(escalation.isNews(later)).toBe(true)
  })

  it('finds OOM kills, crash loops and image pulls in pod states, one anomaly per occurrence', () => {
    const oom = stateAnomalies(
      pod([
        {
          name: 'cart',
          state: 'running',
          ready: true,
          restarts: 2,
          lastTerminationReason: 'OOMKilled',
          lastExitCode: 137,
        },
      ]),
    )
    expect(oom.map((a) => [a.kind, a.id])).toEqual([['oom_killed', 'oom:u1:cart:2']])
    const looping = stateAnomalies(
      pod([
        {
          name: 'cart',
          state: 'waiting',
          reason: 'CrashLoopBackOff',
          ready: false,
          restarts: 5,
          lastTerminationReason: 'Error',
        },
      ]),
    )
    expect(looping.map((a) => a.kind)).toEqual(['crash_loop'])
    expect(stateAnomalies(pod([{ name: 'cart', state: 'running', ready: true, restarts: 0 }]))).toEqual([])
    expect(stateAnomalies(pod([], { reason: 'Evicted', phase: 'Failed' }))[0]?.kind).toBe('evicted')
    expect(stateAnomalies(pod([], { deleted: true, reason: 'Evicted' }))).toEqual([])
  })

  it('finds NotReady nodes and pressure', () => {
    const node: ObjectState = {
      ts: 1,
      cluster: 'c1',
      node: 'n1',
      resource: { kind: 'Node', name: 'n1', uid: 'n1' },
      phase: 'NotReady',
      deleted: false,
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' },
      ],
      containers: [],
      owners: [],
      services: [],
    }
    expect(stateAnomalies(node).map((a) => [a.kind, a.severity])).toEqual([
      ['node_not_ready', 'critical'],
      ['node_pressure', 'warning'],
    ])
  })
})
