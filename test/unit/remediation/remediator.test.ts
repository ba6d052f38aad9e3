import { afterEach, describe, expect, it } from 'vitest'
import type { PolicyStep } from '../../../remediation/policy-config.js'
import { parseRemediationConfig } from '../../../remediation/policy-config.js'
import { createRemediator } from '../../../remediation/remediator.js'
import type { RemediationExecutor } from '../../../remediation/kube-executor.js'
import { TOPICS, type Action, type Anomaly, type Incident, type RootCause } from '../../../core/index.js'
import type { WorkloadTarget } from '../../../kube/index.js'
import { intakeHarness, type IntakeHarness } from '../../helpers/intake-harness.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { publishWorkloadIncident } from '../../helpers/workload-incident.js'
import { until } from '../../helpers/until.js'

// The remediation loop on an in-process bus with a recording executor: policies matched from an
// incident's root cause and anomalies, dry-run, approvals and the kill switch through commands,
// and escalation when verification fails. The real cluster is in test/integration/kube.
interface Call {
  step: PolicyStep['kind']
  target: string
  dryRun: boolean
  replicas?: number
}
function recordingExecutor(replicas = 3): { executor: RemediationExecutor; calls: Call[] } {
  const calls: Call[] = []
  return {
    calls,
    executor: {
      replicas: async () => replicas,
      labels: async () => ({ tier: 'web' }),
      run: async (step: PolicyStep, target: WorkloadTarget, options) => {
        calls.push({
          step: step.kind,
          target: target.name,
          dryRun: options.dryRun,
          ...(options.replicas !== undefined && { replicas: options.replicas }),
        })
        return { changed: true, dryRun: options.dryRun, detail: {} }
      },
    },
  }
}

const policies = (mode: string, extra = '') =>
  parseRemediationConfig(`
mode: ${mode}
policies:
  - name: crashloops
    match: { anomaly_kinds: [crash_loop], root_cause_kinds: [Deployment, Pod] }
    actions: [{ action: restart }, { action: rollback }]
    dry_run: false
    verify: 300ms
    cooldown: 0s
${extra}`)

let harness: IntakeHarness
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
  await harness.stop()
})

let seq = 0
const raise = (h: IntakeHarness, name: string, anomalyKind = 'crash_loop'): Promise<string> =>
  publishWorkloadIncident(h.bus, {
    id: `inc-${name}-${seq++}`,
    cluster: 'c1',
    namespace: 'shop',
    name,
    anomalyKind,
    pod: `${name}-7d9f8-abcde`,
  })

async function start(mode: string, extra = '', replicas = 3) {
  harness = intakeHarness()
  const actions = await harness.collect<Action>(TOPICS.actions)
  const { executor, calls } = recordingExecutor(replicas)
  const remediator = createRemediator({
    bus: harness.bus,
    logger: quietLogger(),
    metrics: harness.metrics,
    config: policies(mode, extra),
    executor,
  })
  await remediator.start()
  stops.push(() => remediator.stop())
  return { actions, calls, remediator }
}

const of = (actions: Action[], incidentId: string) => actions.filter((a) => a.incidentId === incidentId)

describe('remediator', () => {
  it('restarts a crash-looping workload, verifies, and rolls back when the restart did not help', async () => {
    const { actions, calls } = await start('enforce')
    const id = await raise(harness, 'cart')
    await until(() => calls.find((c) => c.step === 'restart'), 'the restart')
    expect(calls[0]).toMatchObject({ step: 'restart', target: 'cart', dryRun: false })
    // Still crashing after the restart: the verification fails and the next action follows.
    await raise(harness, 'cart')
    await until(() => calls.find((c) => c.step === 'rollback'), 'the rollback')
    const statuses = of(actions, id).map((a) => `${a.kind}:${a.status}:${a.attributes?.verification ?? ''}`)
    expect(statuses).toEqual(['restart:executed:', 'restart:executed:failed', 'rollback:executed:'])
  })

  it('in dry-run asks the API server to validate only, and records what it would do', async () => {
    const { actions, calls } = await start('dry-run')
    const id = await raise(harness, 'cart')
    await until(() => of(actions, id)[0], 'the decision')
    expect(of(actions, id)[0]).toMatchObject({
      status: 'dry_run',
      reason: 'dry-run: remediation is not enforced (mode dry-run)',
      policy: 'crashloops',
      target: { kind: 'Deployment', name: 'cart', namespace: 'shop' },
    })
    expect(calls).toEqual([{ step: 'restart', target: 'cart', dryRun: true }])
  })

  it('waits for approval through a command, and stops everything with the kill switch', async () => {
    const gated = `  - name: scale-checkout
    match: { anomaly_kinds: [saturation] }
    actions: [{ action: scale, by: 2 }]
    dry_run: false
    require_approval: true
    replicas: { max: 4 }`
    const { actions, calls } = await start('enforce', gated)
    const id = await raise(harness, 'checkout', 'saturation')
    const waiting = await until(() => of(actions, id).find((a) => a.status === 'pending_approval'), 'pending')
    expect(calls).toEqual([])
    await harness.bus.publish(TOPICS.remediationCommands, [
      { key: 'c', value: { type: 'approve', actionId: waiting.id, by: 'ana@example.com' } },
    ])
    await until(() => calls[0], 'the approved scale')
    // 3 replicas, +2 wanted, at most 4: scaled to 4.
    expect(calls[0]).toMatchObject({ step: 'scale', target: 'checkout', replicas: 4, dryRun: false })
    expect(of(actions, id).at(-1)).toMatchObject({ status: 'executed', actor: 'ana@example.com' })

    await harness.bus.publish(TOPICS.remediationCommands, [
      { key: 'c', value: { type: 'kill_switch', on: true, by: 'oncall' } },
    ])
    await new Promise((resolve) => setTimeout(resolve, 100))
    const next = await raise(harness, 'cart')
    await until(() => of(actions, next)[0], 'the decision under the kill switch')
    expect(of(actions, next)[0]).toMatchObject({
      status: 'skipped',
      reason: 'the kill switch is on: no action runs',
    })
    expect(calls.filter((c) => c.step === 'restart')).toEqual([])
  })

  it('acts when the anomalies arrive after their incident (they travel on another subscription)', async () => {
    const { calls } = await start('enforce')
    const now = Date.now()
    const pod = 'cart-7d9f8-abcde'
    const incident: Incident = {
      ts: now,
      cluster: 'c1',
      namespace: 'shop',
      id: 'inc-late',
      status: 'open',
      severity: 'critical',
      title: 'crash loop',
      openedAt: now,
      anomalyIds: ['an-late'],
      entities: [{ kind: 'Pod', name: pod, namespace: 'shop' }],
      version: 1,
    }
    const cause: RootCause = {
      ts: now,
      cluster: 'c1',
      incidentId: 'inc-late',
      rank: 1,
      entity: { kind: 'Pod', name: pod, namespace: 'shop' },
      score: 0.9,
      explanation: 'crash-looping',
      evidence: [],
    }
    await harness.bus.publish(TOPICS.incidents, [{ key: 'c1/inc-late', value: incident }])
    await harness.bus.publish(TOPICS.rootCauses, [{ key: 'c1/inc-late', value: cause }])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(calls).toEqual([]) // nothing known yet: which workload the pod belongs to, what went wrong
    const anomaly: Anomaly = {
      ts: now,
      cluster: 'c1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'cart' },
      pod,
      id: 'an-late',
      entity: { kind: 'Pod', name: pod, namespace: 'shop' },
      signal: 'event',
      kind: 'crash_loop',
      score: 0.9,
      severity: 'critical',
      summary: 'BackOff',
      evidence: [],
    }
    await harness.bus.publish(TOPICS.anomalies, [{ key: 'c1', value: anomaly }])
    await until(() => calls[0], 'the restart once the anomaly arrived', 5_000)
    expect(calls[0]).toMatchObject({ step: 'restart', target: 'cart', dryRun: false })
  })
})
