import { describe, expect, it } from 'vitest'
import { IncidentCorrelator, ServiceGraph } from '../../../analyzers/index.js'
import type { Anomaly, ResourceChange } from '../../../core/index.js'

const T0 = Date.parse('2026-11-01T10:00:00Z')
const MIN = 60_000

function anomaly(id: string, workload: string, minute: number, extra: Partial<Anomaly> = {}): Anomaly {
  return {
    ts: T0 + minute * MIN,
    cluster: 'c1',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: workload },
    id,
    entity: { kind: 'Deployment', name: workload, namespace: 'shop', cluster: 'c1' },
    signal: 'metric',
    kind: 'spike',
    score: 1,
    severity: 'warning',
    summary: `latency_seconds of Deployment/${workload} rose`,
    evidence: [{ signal: 'metric', ts: T0 + minute * MIN, description: 'latency up' }],
    ...extra,
  }
}

function shopGraph(): ServiceGraph {
  const graph = new ServiceGraph()
  graph.addCall('shop/frontend', 'shop/checkout')
  graph.addCall('shop/checkout', 'shop/payment')
  return graph
}

describe('incident correlator', () => {
  it('reopens a resolved incident when its root cause fails again soon after (flap control), not for a shared symptom', () => {
    const correlator = new IncidentCorrelator(shopGraph(), { quietMs: 5 * MIN, reopenMs: 30 * MIN })
    correlator.observeAnomaly(anomaly('a1', 'payment', 0))
    correlator.observeAnomaly(anomaly('a1b', 'checkout', 0.5)) // its caller, a symptom
    const { incidents: first, rootCauses: ranked } = correlator.flush(T0 + MIN)
    const opened = first[0]
    expect(ranked[0]?.entity.name).toBe('payment')
    const [resolved] = correlator.flush(T0 + 7 * MIN).incidents
    expect(resolved).toMatchObject({ id: opened?.id, status: 'resolved' })
    // The symptom alone, later: something else may be behind it, so a new incident, ranked on its own.
    correlator.observeAnomaly(anomaly('s1', 'checkout', 15))
    const [other] = correlator.flush(T0 + 16 * MIN).incidents
    expect(other?.id).not.toBe(opened?.id)
    correlator.flush(T0 + 22 * MIN) // that one resolves too
    // The root cause back 20 minutes after it was resolved: the same incident, open again.
    correlator.observeAnomaly(anomaly('a2', 'payment', 25))
    const { incidents, rootCauses } = correlator.flush(T0 + 26 * MIN)
    expect(incidents).toHaveLength(1)
    expect(incidents[0]).toMatchObject({
      id: opened?.id,
      status: 'open',
      anomalyIds: ['a1', 'a1b', 'a2'],
      attributes: { reopened: '1' },
    })
    expect(incidents[0]?.resolvedAt).toBeUndefined()
    expect(incidents[0]?.version).toBeGreaterThan(resolved?.version ?? 0)
    expect(rootCauses[0]?.incidentId).toBe(opened?.id)
    // Something unrelated is not a recurrence: a new incident.
    correlator.observeAnomaly(anomaly('c1', 'reporting', 26))
    expect(correlator.flush(T0 + 27 * MIN).incidents.map((i) => i.id)).not.toContain(opened?.id)
    // Quiet again, then back only after the reopen window: a new incident.
    correlator.flush(T0 + 40 * MIN)
    correlator.observeAnomaly(anomaly('a3', 'payment', 100))
    const [fresh] = correlator.flush(T0 + 101 * MIN).incidents
    expect(fresh?.id).not.toBe(opened?.id)
    expect(fresh?.attributes?.reopened).toBeUndefined()
  })

  it('groups related anomalies into one incident and ranks the deepest anomalous dependency first', () => {
    const correlator = new IncidentCorrelator(shopGraph())
    correlator.observeAnomaly(anomaly('a1', 'payment', 0))
    correlator.observeAnomaly(anomaly('a2', 'checkout', 0.5))
    correlator.observeAnomaly(anomaly('a3', 'frontend', 1))
    correlator.observeAnomaly(anomaly('a3', 'frontend', 1)) // a redelivery
    const { incidents, rootCauses } = correlator.flush(T0 + 2 * MIN)
    expect(incidents).toHaveLength(1)
    expect(incidents[0]).toMatchObject({ status: 'open', version: 1, anomalyIds: ['a1', 'a2', 'a3'] })
    expect(rootCauses.map((r) => [r.rank, r.entity.name])).toEqual([
      [1, 'payment'],
      [2, 'checkout'],
      [3, 'frontend'],
    ])
    expect(incidents[0]?.title).toMatch(/^Deployment\/payment: /)
  })

  it('keeps unrelated anomalies apart and resolves a quiet incident', () => {
    const correlator = new IncidentCorrelator(shopGraph(), { quietMs: 5 * MIN })
    correlator.observeAnomaly(anomaly('a1', 'payment', 0))
    correlator.observeAnomaly(anomaly('b1', 'reporting', 1))
    const opened = correlator.flush(T0 + 2 * MIN).incidents
    expect(opened.map((i) => i.status)).toEqual(['open', 'open'])
    const later = correlator.flush(T0 + 10 * MIN).incidents
    expect(later.map((i) => [i.status, i.version])).toEqual([
      ['resolved', 2],
      ['resolved', 2],
    ])
    expect(correlator.openCount).toBe(0)
  })

  it('names a change made just before onset as the cause of the workloads it concerns', () => {
    const correlator = new IncidentCorrelator(shopGraph())
    const change: ResourceChange = {
      ts: T0 - 30_000,
      cluster: 'c1',
      namespace: 'shop',
      changeKind: 'config',
      resource: { kind: 'ConfigMap', name: 'payment-config', namespace: 'shop' },
      diff: [{ path: 'data.POOL_SIZE', from: '20', to: '0' }],
    }
    correlator.observeChange(change)
    correlator.observeAnomaly(
      anomaly('a1', 'payment', 0, { signal: 'event', kind: 'crash_loop', severity: 'critical' }),
    )
    const { rootCauses } = correlator.flush(T0 + MIN)
    expect(rootCauses[0]?.entity).toEqual({ kind: 'ConfigMap', name: 'payment-config', namespace: 'shop' })
    expect(rootCauses[0]?.explanation).toMatch(
      /was changed \(config\) 30 s before the first anomaly; payment went wrong/,
    )
    expect(rootCauses[0]?.evidence[0]?.description).toContain('data.POOL_SIZE: 20 -> 0')
  })

  it('says nothing ranks when the evidence is weak', () => {
    const correlator = new IncidentCorrelator(shopGraph())
    correlator.observeAnomaly(anomaly('w1', 'payment', 0, { score: 0.6, severity: 'info' }))
    const { incidents, rootCauses } = correlator.flush(T0 + MIN)
    expect(rootCauses).toEqual([])
    expect(incidents[0]?.title).toMatch(/cause unclear/)
  })
})

describe('incident correlator, late topology', () => {
  it('merges incidents that a flow edge learned afterwards relates, into the older one', () => {
    const graph = new ServiceGraph()
    const correlator = new IncidentCorrelator(graph)
    correlator.observeAnomaly(anomaly('a1', 'payment', 0))
    correlator.observeAnomaly(anomaly('a2', 'checkout', 0.5)) // unrelated yet: no edge known
    expect(correlator.flush(T0 + MIN).incidents.filter((i) => i.status === 'open')).toHaveLength(2)
    graph.addCall('shop/checkout', 'shop/payment')
    const { incidents, rootCauses } = correlator.flush(T0 + 2 * MIN)
    const merged = incidents.find((i) => i.status === 'resolved')
    const kept = incidents.find((i) => i.status === 'open')
    expect(merged?.title).toBe(`merged into ${kept?.id}`)
    expect(kept?.anomalyIds).toEqual(['a1', 'a2'])
    expect(rootCauses[0]?.entity.name).toBe('payment')
    expect(correlator.openCount).toBe(1)
  })
})

describe('incident correlator and remediation', () => {
  it('resolves an incident a verified remediation fixed, at once and saying how', () => {
    const correlator = new IncidentCorrelator(shopGraph())
    correlator.observeAnomaly(anomaly('a1', 'payment', 0))
    const [opened] = correlator.flush(T0 + MIN).incidents
    expect(correlator.resolveFixed('no-such-incident', T0 + 2 * MIN, 'restart')).toBe(false)
    expect(correlator.resolveFixed(opened?.id as string, T0 + 2 * MIN, 'restart by policy crashloops')).toBe(
      true,
    )
    const [resolved] = correlator.flush(T0 + 2 * MIN).incidents
    expect(resolved).toMatchObject({
      id: opened?.id,
      status: 'resolved',
      resolvedAt: T0 + 2 * MIN,
      attributes: { resolvedBy: 'restart by policy crashloops' },
    })
    expect(correlator.openCount).toBe(0)
  })
})
