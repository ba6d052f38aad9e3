import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Guardrails,
  type Decision,
  type GlobalGuardrails,
  type PolicyGuardrails,
  type ProposedAction,
} from '../../../remediation/guardrails.js'

const MIN = 60_000

const policy = (overrides: Partial<PolicyGuardrails> = {}): PolicyGuardrails => ({
  name: 'scale-on-saturation',
  dryRun: false,
  requireApproval: false,
  cooldownMs: 5 * MIN,
  rateLimit: { max: 3, perMs: 60 * MIN },
  minReplicas: 2,
  maxReplicas: 10,
  maxStep: 4,
  blastRadiusPercent: 25,
  ...overrides,
})

const enforce: GlobalGuardrails = {
  mode: 'enforce',
  killSwitch: false,
  allowNamespaces: [],
  denyNamespaces: [],
  rateLimit: { max: 100, perMs: 60 * MIN },
}

const target = (name = 'cart', namespace = 'shop') => ({ kind: 'Deployment', namespace, name })

describe('guardrails', () => {
  it('clamps a scale to the bounds and the step, and skips with a reason what cannot be done', () => {
    const guard = new Guardrails(enforce)
    const scale = (current: number, desired: number, at: number): Decision =>
      guard.decide(
        {
          policy: policy({ cooldownMs: 0, rateLimit: { max: 100, perMs: MIN } }),
          kind: 'scale',
          target: target(),
          currentReplicas: current,
          desiredReplicas: desired,
        },
        at,
      )
    expect(scale(3, 30, 0)).toMatchObject({ verdict: 'execute', replicas: 7 }) // step 4
    expect(scale(9, 30, 1)).toMatchObject({ verdict: 'execute', replicas: 10 }) // max 10
    expect(scale(8, 1, 2)).toMatchObject({ verdict: 'execute', replicas: 6 }) // 25% of 8 at once
    expect(scale(10, 10, 3)).toMatchObject({
      verdict: 'skip',
      reason: 'Deployment/cart already has 10 replicas',
    })
    expect(scale(2, 1, 4).reason).toMatch(/stays at 2: bounds 2\.\.10/)
  })

  it('runs nothing with the kill switch on, in kube-system unless allowed, or in a denied namespace', () => {
    const guard = new Guardrails({ ...enforce, denyNamespaces: ['payments'] })
    const restart = (namespace: string): ProposedAction => ({
      policy: policy(),
      kind: 'restart',
      target: target('x', namespace),
    })
    expect(guard.decide(restart('kube-system'), 0)).toMatchObject({
      verdict: 'skip',
      reason: 'namespace kube-system is excluded unless allowed',
    })
    expect(guard.decide(restart('payments'), 0)).toMatchObject({
      verdict: 'skip',
      reason: 'namespace payments is denied',
    })
    guard.setKillSwitch(true)
    expect(guard.decide(restart('shop'), 0)).toMatchObject({
      verdict: 'skip',
      reason: 'the kill switch is on: no action runs',
    })
    guard.setKillSwitch(false)
    expect(guard.decide(restart('shop'), 0).verdict).toBe('execute')
    expect(
      new Guardrails({ ...enforce, allowNamespaces: ['kube-system'] }).decide(restart('kube-system'), 0)
        .verdict,
    ).toBe('execute')
  })

  it('is dry-run by default and per policy, waits for approval, and says why', () => {
    const restart = (p: PolicyGuardrails, approvedBy?: string): ProposedAction => ({
      policy: p,
      kind: 'restart',
      target: target(),
      ...(approvedBy && { approvedBy }),
    })
    expect(new Guardrails({ ...enforce, mode: 'dry-run' }).decide(restart(policy()), 0)).toMatchObject({
      verdict: 'dry_run',
      reason: 'dry-run: remediation is not enforced (mode dry-run)',
    })
    expect(new Guardrails(enforce).decide(restart(policy({ dryRun: true })), 0).verdict).toBe('dry_run')
    const approving = new Guardrails(enforce)
    const gated = policy({ requireApproval: true })
    expect(approving.decide(restart(gated), 0)).toMatchObject({ verdict: 'await_approval' })
    expect(approving.decide(restart(gated, 'ana@example.com'), 1)).toMatchObject({
      verdict: 'execute',
      reason: 'approved by ana@example.com',
    })
  })

  it('never exceeds max replicas, step, blast radius, cooldown or rate limits, whatever the incidents', () => {
    const policies = [
      policy(),
      policy({
        name: 'restart-crashloops',
        cooldownMs: 10 * MIN,
        rateLimit: { max: 2, perMs: 30 * MIN },
        maxReplicas: 6,
        maxStep: 2,
        blastRadiusPercent: 50,
      }),
    ]
    const globalLimit = { max: 5, perMs: 20 * MIN }
    const proposal = fc.record({
      gapMs: fc.integer({ min: 0, max: 4 * MIN }),
      policy: fc.integer({ min: 0, max: 1 }),
      kind: fc.constantFrom('scale' as const, 'restart' as const, 'delete_pod' as const, 'rollback' as const),
      target: fc.constantFrom('cart', 'checkout', 'frontend'),
      namespace: fc.constantFrom('shop', 'shop', 'shop', 'kube-system'),
      current: fc.integer({ min: 0, max: 40 }),
      desired: fc.integer({ min: 0, max: 60 }),
      podsAffected: fc.integer({ min: 1, max: 10 }),
      totalPods: fc.integer({ min: 0, max: 20 }),
      killSwitch: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(proposal, { minLength: 1, maxLength: 80 }), fc.boolean(), (proposals, dryRun) => {
        const guard = new Guardrails({
          ...enforce,
          mode: dryRun ? 'dry-run' : 'enforce',
          rateLimit: globalLimit,
        })
        let now = 0
        const ran: Array<{ at: number; p: PolicyGuardrails; key: string; namespace: string }> = []
        for (const x of proposals) {
          now += x.gapMs
          // The kill switch flips now and then, as through the API.
          guard.setKillSwitch(x.killSwitch && x.gapMs % 7 === 0)
          const p = policies[x.policy] as PolicyGuardrails
          const decision = guard.decide(
            {
              policy: p,
              kind: x.kind,
              target: target(x.target, x.namespace),
              currentReplicas: x.current,
              desiredReplicas: x.desired,
              podsAffected: x.podsAffected,
              totalPods: x.totalPods,
            },
            now,
          )
          if (decision.verdict !== 'execute' && decision.verdict !== 'dry_run') continue
          expect(guard.settings.killSwitch).toBe(false)
          expect(decision.verdict).toBe(dryRun ? 'dry_run' : 'execute')
          expect(x.namespace).not.toBe('kube-system')
          if (x.kind === 'scale') {
            const replicas = decision.replicas as number
            // Within bounds, or moving toward them from outside, never past them.
            if (x.current <= p.maxReplicas) expect(replicas).toBeLessThanOrEqual(p.maxReplicas)
            if (x.current >= p.minReplicas) expect(replicas).toBeGreaterThanOrEqual(p.minReplicas)
            expect(Math.abs(replicas - x.current)).toBeLessThanOrEqual(p.maxStep)
            expect(x.current - replicas).toBeLessThanOrEqual((x.current * p.blastRadiusPercent) / 100)
            expect(replicas).not.toBe(x.current)
          }
          if (x.kind === 'delete_pod')
            expect(x.podsAffected * 100).toBeLessThanOrEqual(p.blastRadiusPercent * x.totalPods)
          const key = `${x.namespace}/${x.target}`
          const previous = ran.filter((r) => r.key === key).at(-1)
          if (previous) expect(now - previous.at).toBeGreaterThanOrEqual(p.cooldownMs)
          ran.push({ at: now, p, key, namespace: x.namespace })
          const inWindow = (perMs: number, of?: string) =>
            ran.filter((r) => now - r.at < perMs && (of === undefined || r.p.name === of)).length
          expect(inWindow(globalLimit.perMs)).toBeLessThanOrEqual(globalLimit.max)
          expect(inWindow(p.rateLimit.perMs, p.name)).toBeLessThanOrEqual(p.rateLimit.max)
        }
      }),
      { numRuns: 500, seed: 20261125 },
    )
  })
})

describe('remediation policies', () => {
  it('the shipped example parses, and everything in it is dry-run', async () => {
    const { readFileSync } = await import('node:fs')
    const { parseRemediationConfig } = await import('../../../remediation/policy-config.js')
    const config = parseRemediationConfig(readFileSync('deploy/remediation/policies.yaml', 'utf8'))
    expect(config.guardrails.mode).toBe('dry-run')
    expect(config.policies.map((p) => p.name)).toContain('crashloop-restart-then-rollback')
    expect(config.policies.every((p) => p.guardrails.dryRun)).toBe(true)
  })

  it('refuses a broken policy with the place of the error', async () => {
    const { parseRemediationConfig } = await import('../../../remediation/policy-config.js')
    expect(() => parseRemediationConfig('policies: [{ name: x, match: {}, actions: [] }]')).toThrow(
      /\/policies\/0\/actions/,
    )
    expect(() =>
      parseRemediationConfig('policies: [{ name: x, match: {}, actions: [{ action: raise_memory_limit }] }]'),
    ).toThrow(/raise_memory_limit needs memory/)
    expect(() =>
      parseRemediationConfig(
        "policies: [{ name: x, match: { names: '(' }, actions: [{ action: restart }] }]",
      ),
    ).toThrow(/match\/names/)
  })
})
