import { describe, expect, it } from 'vitest'
import { createAutoscaler } from '../../../remediation/autoscaler.js'
import { Guardrails } from '../../../remediation/guardrails.js'
import type { RemediationExecutor } from '../../../remediation/kube-executor.js'
import { parseRemediationConfig } from '../../../remediation/policy-config.js'
import { HPA_DEFAULT_BEHAVIOUR, ScaleStabiliser } from '../../../remediation/scale-behaviour.js'
import type { Action, Anomaly, WorkloadForecast } from '../../../core/index.js'

const S = 1_000

describe('HPA scaling behaviour', () => {
  it('scales up at once by at most max(4 pods, 100%) per minute, and down only after 300 s of lower recommendations', () => {
    const hpa = new ScaleStabiliser({ minReplicas: 2, maxReplicas: 20, ...HPA_DEFAULT_BEHAVIOUR })
    expect(hpa.desired(2, 20, 0)).toBe(6) // 2 + max(4, 100% of 2)
    hpa.scaled(2, 6, 0)
    expect(hpa.desired(6, 20, 15 * S)).toBe(6) // this minute's budget is spent
    expect(hpa.desired(6, 20, 61 * S)).toBe(12) // a new minute: 6 + max(4, 6)
    hpa.scaled(6, 12, 61 * S)
    // Load gone: recommendations drop to 2, but the window still holds the 20 of 61 s.
    for (let t = 100; t <= 360; t += 15) expect(hpa.desired(12, 2, t * S)).toBe(12)
    expect(hpa.desired(12, 2, 375 * S)).toBe(2)
  })

  it('never leaves its bounds', () => {
    const hpa = new ScaleStabiliser({ minReplicas: 3, maxReplicas: 5, ...HPA_DEFAULT_BEHAVIOUR })
    expect(hpa.desired(4, 100, 0)).toBe(5)
    expect(hpa.desired(4, 0, 400 * S)).toBe(3)
  })
})

/**
 * An autoscaler for `frontend` in `shop` (2 to 8 replicas, asks held 60 s) over a stand-in
 * executor that starts at `replicas`; `now` is the clock it reads, set by the test.
 */
function autoscaled(replicas: number, extra = '') {
  const config = parseRemediationConfig(`
mode: enforce
policies: []
autoscaling:
  - name: web
    match: { namespaces: [shop], names: 'frontend' }
    replicas: { min: 2, max: 8 }
    ${extra}
    hold: 60s
    dry_run: false
`)
  const executor: RemediationExecutor = {
    replicas: async () => state.replicas,
    labels: async () => ({}),
    run: async (_step, _target, options) => {
      if (!options.dryRun) state.replicas = options.replicas ?? state.replicas
      return { changed: true, dryRun: options.dryRun, detail: {} }
    },
  }
  const actions: Action[] = []
  const state: {
    replicas: number
    now: number
    actions: Action[]
    autoscaler: ReturnType<typeof createAutoscaler>
  } = {
    replicas,
    now: Date.parse('2026-11-25T00:00:00Z'),
    actions,
    autoscaler: createAutoscaler({
      policies: config.autoscaling,
      guardrails: new Guardrails(config.guardrails),
      executor,
      publish: async (a) => void actions.push(a),
      now: (): number => state.now,
    }),
  }
  return state
}

describe('autoscaler', () => {
  it('scales a saturated workload out within its cap, and back in after the stabilisation window', async () => {
    const web = autoscaled(2, 'scale_down: { stabilization: 60s }')
    const { autoscaler, actions } = web
    const saturation = (ratio: number): Anomaly => ({
      ts: web.now,
      cluster: 'c1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'frontend' },
      id: `a-${web.now}`,
      entity: { kind: 'Deployment', name: 'frontend', namespace: 'shop' },
      signal: 'metric',
      kind: 'spike',
      score: 0.9999,
      severity: 'critical',
      summary: 'cpu_cores rose',
      attributes: { indicator: 'cpu_cores', movement: 'up' },
      evidence: [{ signal: 'metric', ts: web.now, description: '', observed: ratio, expected: 1 }],
    })
    // Not covered by a policy: ignored.
    autoscaler.observe({ ...saturation(2), workload: { kind: 'Deployment', name: 'cart' } })
    expect(autoscaler.size).toBe(0)
    // CPU at twice its usual: double, each sync, within the HPA's pace and the cap of 8.
    const seen: number[] = []
    for (let i = 0; i < 12; i++) {
      autoscaler.observe(saturation(2))
      await autoscaler.tick()
      seen.push(web.replicas)
      web.now += 15 * S
    }
    expect(Math.max(...seen)).toBe(8)
    // 2 -> 4 at once; then at most 2 + max(4 pods, 100%) = 6 within that minute; 8 in the next.
    expect(seen.slice(0, 3)).toEqual([4, 6, 6])
    // Calm: nothing for 60 s of saturation memory and 60 s of stabilisation, then back to 2.
    const calm: number[] = []
    for (let i = 0; i < 16; i++) {
      web.now += 15 * S
      await autoscaler.tick()
      calm.push(web.replicas)
    }
    expect(calm[0]).toBe(8)
    expect(calm.at(-1)).toBe(2)
    expect(autoscaler.size).toBe(0) // back at its baseline: no longer tracked
    expect(actions.every((a) => a.kind === 'scale' && a.policy === 'web' && a.status === 'executed')).toBe(
      true,
    )
    expect(actions.some((a) => a.reason.startsWith('calm: back toward 2 replicas'))).toBe(true)
  })

  it('scales out ahead of a rise its model forecasts, says so in the audit log, and ignores other workloads', async () => {
    const web = autoscaled(4)
    const { autoscaler, actions } = web
    const forecast = (name: string, current: number, predicted: number): WorkloadForecast => ({
      ts: web.now,
      cluster: 'c1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name },
      indicator: 'request_rate',
      current,
      predicted,
      horizonMs: 60_000,
      modelVersion: 3,
    })
    autoscaler.forecast(forecast('cart', 100, 300))
    expect(autoscaler.size).toBe(0)
    // Load forecast to rise by half within a minute: 4 replicas become 6 before any saturation.
    autoscaler.forecast(forecast('frontend', 100, 150))
    await autoscaler.tick()
    expect(web.replicas).toBe(6)
    expect(actions).toHaveLength(1)
    expect(actions[0]).toMatchObject({
      kind: 'scale',
      status: 'executed',
      params: { from: '4', replicas: '6' },
    })
    // Held, not compounded: the ask was for half again the 4 replicas it found, not for more each sync.
    for (let i = 0; i < 4; i++) {
      web.now += 15_000
      await autoscaler.tick()
    }
    expect(web.replicas).toBe(6)
    expect(actions[0]?.reason).toMatch(
      /^forecast: request_rate 100 -> 150 within 60 s \(model v3\): 4 -> 6 replicas/,
    )
  })
})
