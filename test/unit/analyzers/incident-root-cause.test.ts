import { describe, expect, it } from 'vitest'
import { rankIncidentRootCauses } from '../../../analyzers/incident-root-cause.js'
import { ServiceGraph, serviceNode } from '../../../analyzers/service-graph.js'
import type { Anomaly, ResourceChange } from '../../../core/index.js'

const T0 = Date.parse('2026-11-01T00:00:00Z')

function workloadAnomaly(name: string, at: number, summary: string): Anomaly {
  return {
    ts: T0 + at,
    cluster: 'c1',
    namespace: 'shop',
    workload: { kind: 'Deployment', name },
    id: `a-${name}-${at}`,
    entity: { kind: 'Deployment', name, namespace: 'shop' },
    signal: 'metric',
    kind: 'spike',
    score: 0.9999,
    severity: 'critical',
    summary,
    evidence: [],
  }
}

describe('incident root cause', () => {
  it('blames a policy denying traffic into a service for its callers failing, though the service looks fine', () => {
    const graph = new ServiceGraph()
    graph.addCall(serviceNode('shop', 'frontend'), serviceNode('shop', 'checkout'))
    graph.addCall(serviceNode('shop', 'checkout'), serviceNode('shop', 'payment'))
    const policy: ResourceChange = {
      ts: T0 - 30_000,
      cluster: 'c1',
      namespace: 'shop',
      changeKind: 'create',
      resource: { kind: 'NetworkPolicy', name: 'deny-payment-ingress', namespace: 'shop' },
    }
    const unrelated: ResourceChange = {
      ...policy,
      resource: { kind: 'ConfigMap', name: 'ads-config', namespace: 'shop' },
    }
    const ranking = rankIncidentRootCauses({
      anomalies: [
        workloadAnomaly('checkout', 0, 'error_ratio of Deployment/checkout rose'),
        workloadAnomaly('frontend', 10_000, 'error_ratio of Deployment/frontend rose'),
      ],
      changes: [policy, unrelated],
      graph,
    })
    expect(ranking[0]?.entity).toMatchObject({ kind: 'NetworkPolicy', name: 'deny-payment-ingress' })
    expect(ranking[0]?.explanation).toMatch(/NetworkPolicy\/deny-payment-ingress was changed/)
    expect(ranking.map((r) => r.entity.name)).not.toContain('ads-config')
    // Without the policy, the first caller to fail is the suspect.
    const without = rankIncidentRootCauses({
      anomalies: [
        workloadAnomaly('checkout', 0, 'error_ratio of Deployment/checkout rose'),
        workloadAnomaly('frontend', 10_000, 'error_ratio of Deployment/frontend rose'),
      ],
      changes: [unrelated],
      graph,
    })
    expect(without[0]?.entity.name).toBe('checkout')
  })
})
