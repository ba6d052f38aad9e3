import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { TOPICS, type Action, type Anomaly } from '../../../core/index.js'
import { loadKubeConfig } from '../../../kube/index.js'
import { createKubeExecutor } from '../../../remediation/kube-executor.js'
import { parseRemediationConfig } from '../../../remediation/policy-config.js'
import { createRemediator } from '../../../remediation/remediator.js'
import { deploymentManifest, kubeAdmin } from '../../helpers/kube-admin.js'
import { intakeHarness, type IntakeHarness } from '../../helpers/intake-harness.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { publishWorkloadIncident } from '../../helpers/workload-incident.js'
import { until } from '../../helpers/until.js'

// The remediation loop against the real API server, as the ServiceAccount of
// deploy/kubernetes/remediator-rbac.yaml bound in one namespace: incidents on the bus become
// restarts, rollbacks and scales in the cluster, within the guardrails; dry-run changes nothing;
// the kill switch stops it; an action needing approval waits for it.
const stateDir = inject('kubeStateDir')
const admin = kubeAdmin(stateDir, 17443)
const dir = mkdtempSync(join(tmpdir(), 'argus-remediation-'))
const ns = `remedy-${Date.now().toString(36)}`
let harness: IntakeHarness
let actions: Action[] = []
let stop: (() => Promise<void>) | undefined

const COLLECTIONS: Record<string, (namespace?: string) => string> = {
  Namespace: () => '/api/v1/namespaces',
  ServiceAccount: (namespace) => `/api/v1/namespaces/${namespace}/serviceaccounts`,
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  RoleBinding: (namespace) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
}

interface Deployment {
  metadata: { annotations?: Record<string, string>; generation: number }
  spec: {
    replicas: number
    template: {
      metadata: { annotations?: Record<string, string> }
      spec: { containers: Array<{ image: string }> }
    }
  }
  status: { observedGeneration?: number }
}
const path = (name: string, namespace = ns) => `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`
const read = (name: string) => admin.get<Deployment>(path(name))
const atRevision = (name: string, revision: string) =>
  until(async () => {
    const d = await read(name)
    return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision &&
      d.status.observedGeneration === d.metadata.generation
      ? d
      : undefined
  }, `${name} at revision ${revision}`)

async function remediatorAs(configYaml: string): Promise<ReturnType<typeof createRemediator>> {
  const issued = await admin.create<{ status: { token: string } }>(
    '/api/v1/namespaces/argus/serviceaccounts/argus-remediator/token',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  )
  const kubeconfig = join(dir, 'remediator.kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 't',
          cluster: { server: 'https://127.0.0.1:17443', 'certificate-authority': `${stateDir}/pki/ca.crt` },
        },
      ],
      users: [{ name: 'argus-remediator', user: { token: issued.status.token } }],
      contexts: [{ name: 't', context: { cluster: 't', user: 'argus-remediator' } }],
      'current-context': 't',
    }),
  )
  const remediator = createRemediator({
    bus: harness.bus,
    logger: quietLogger(),
    metrics: harness.metrics,
    config: parseRemediationConfig(configYaml),
    executor: createKubeExecutor(loadKubeConfig({ kind: 'file', path: kubeconfig })),
  })
  await remediator.start()
  stop = () => remediator.stop()
  return remediator
}

let seq = 0
/** What the analyzers would publish: an anomaly, an incident and its top root cause, on `name`. */
const incidentOn = (name: string, kind: string, namespace = ns): Promise<string> =>
  publishWorkloadIncident(harness.bus, {
    id: `inc-${name}-${seq++}`,
    cluster: 'k',
    namespace,
    name,
    anomalyKind: kind,
  })
const decided = (id: string, status?: Action['status']) =>
  until(
    () => actions.find((a) => a.incidentId === id && (status === undefined || a.status === status)),
    () =>
      `${status ?? 'a decision'} for ${id}; decisions: ${JSON.stringify(
        actions.filter((a) => a.incidentId === id).map((a) => [a.status, a.reason]),
      )}`,
    30_000,
  )

const POLICIES = `
mode: enforce
policies:
  - name: crashloops
    match: { anomaly_kinds: [crash_loop] }
    actions: [{ action: restart }]
    dry_run: false
    cooldown: 0s
  - name: bad-release
    match: { anomaly_kinds: [error_surge] }
    actions: [{ action: rollback }]
    dry_run: false
  - name: overload
    match: { anomaly_kinds: [saturation] }
    actions: [{ action: scale, by: 10 }]
    dry_run: false
    cooldown: 0s
    replicas: { max: 5, max_step: 3 }
  - name: overload-gated
    match: { anomaly_kinds: [saturation_gated] }
    actions: [{ action: scale, by: 1 }]
    dry_run: false
    require_approval: true
    replicas: { max: 9 }
  - name: shadow
    match: { anomaly_kinds: [leak] }
    actions: [{ action: restart }]
    dry_run: true
autoscaling:
  - name: web
    match: { names: 'frontend' }
    replicas: { min: 2, max: 6 }
    # The HPA's pace, shortened for the test: windows of seconds, not minutes.
    scale_up: { period: 2s }
    scale_down: { stabilization: 2s, period: 1s }
    sync: 300ms
    hold: 1s
    dry_run: false
`

beforeAll(async () => {
  await admin.createNamespace(ns)
  for (const document of parseAllDocuments(readFileSync('deploy/kubernetes/remediator-rbac.yaml', 'utf8'))) {
    const object = document.toJS() as { kind: string; metadata: { namespace?: string } }
    // The shipped RoleBinding names `shop`: bind it in this test's namespace instead.
    if (object.kind === 'RoleBinding') object.metadata.namespace = ns
    await admin
      .create(COLLECTIONS[object.kind]?.(object.metadata.namespace) ?? '', object)
      .catch((error: Error) => {
        if (!/ 409 /.test(error.message)) throw error
      })
  }
  for (const name of ['cart', 'checkout', 'search', 'ads', 'frontend'])
    await admin.createDeployment(
      deploymentManifest({ namespace: ns, name, replicas: 2, containers: [{ name, image: `${name}:1` }] }),
    )
  await admin.createNamespace(`${ns}-other`)
  await admin.createDeployment(
    deploymentManifest({
      namespace: `${ns}-other`,
      name: 'cart',
      replicas: 2,
      containers: [{ name: 'cart', image: 'cart:1' }],
    }),
  )
  await atRevision('checkout', '1')
  // A bad release of checkout: revision 2.
  await admin.patch(path('checkout'), {
    spec: { template: { spec: { containers: [{ name: 'checkout', image: 'checkout:2' }] } } },
  })
  await atRevision('checkout', '2')
  harness = intakeHarness('k')
  actions = await harness.collect<Action>(TOPICS.actions)
})

afterAll(async () => {
  await stop?.()
  await harness?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('remediation on a real cluster', () => {
  it('restarts a crash-looping workload, rolls a bad release back, and scales out within its cap', async () => {
    const remediator = await remediatorAs(POLICIES)
    const crash = await incidentOn('cart', 'crash_loop')
    const restarted = await decided(crash, 'executed')
    expect(
      (await read('cart')).spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'],
    ).toBe(restarted.id)

    const release = await incidentOn('checkout', 'error_surge')
    await decided(release, 'executed')
    const rolledBack = await atRevision('checkout', '3')
    expect(rolledBack.spec.template.spec.containers[0]?.image).toBe('checkout:1')

    const load = await incidentOn('search', 'saturation')
    expect(await decided(load, 'executed')).toMatchObject({ params: { replicas: '5' } }) // 2 + at most 3
    expect((await read('search')).spec.replicas).toBe(5)
    const again = await incidentOn('search', 'saturation')
    expect(await decided(again)).toMatchObject({ status: 'skipped' }) // at its cap of 5
    expect((await read('search')).spec.replicas).toBe(5)
    await remediator.stop()
  })

  it('in dry-run changes nothing but records what it would do; outside its namespaces it cannot act', async () => {
    const remediator = await remediatorAs(POLICIES)
    const before = await read('ads')
    const shadow = await incidentOn('ads', 'leak')
    expect(await decided(shadow)).toMatchObject({
      status: 'dry_run',
      reason: 'dry-run: policy shadow is in dry-run',
    })
    expect((await read('ads')).spec.template.metadata.annotations).toEqual(
      before.spec.template.metadata.annotations,
    )
    // Not bound there: the API server refuses, and the failure is recorded with its reason.
    const elsewhere = await incidentOn('cart', 'crash_loop', `${ns}-other`)
    const refused = await decided(elsewhere)
    expect(refused.status).toBe('failed')
    expect(refused.reason).toMatch(/403|forbidden/i)
    await remediator.stop()
  })

  it('scales an overloaded workload out within its cap, and back in after stabilisation', async () => {
    const remediator = await remediatorAs(POLICIES)
    const replicasSeen = new Set<number>()
    const overload = setInterval(() => {
      const now = Date.now()
      void harness.bus.publish(TOPICS.anomalies, [
        {
          key: 'k',
          value: {
            ts: now,
            cluster: 'k',
            namespace: ns,
            workload: { kind: 'Deployment', name: 'frontend' },
            id: `sat-${now}`,
            entity: { kind: 'Deployment', name: 'frontend', namespace: ns },
            signal: 'metric',
            kind: 'spike',
            score: 0.9999,
            severity: 'critical',
            summary: 'cpu_cores of Deployment/frontend rose',
            attributes: { indicator: 'cpu_cores', movement: 'up' },
            evidence: [{ signal: 'metric', ts: now, description: 'spike', observed: 2, expected: 1 }],
          } satisfies Anomaly,
        },
      ])
    }, 200)
    try {
      await until(async () => {
        const replicas = (await read('frontend')).spec.replicas
        replicasSeen.add(replicas)
        return replicas === 6 ? true : undefined
      }, 'frontend at its cap of 6')
    } finally {
      clearInterval(overload)
    }
    expect(Math.max(...replicasSeen)).toBe(6)
    // Calm: back to its own 2 replicas once the saturation is over and the stabilisation window passed.
    const calmSince = Date.now()
    const scales = (): number[] =>
      actions
        .filter((a) => a.policy === 'web' && a.status === 'executed')
        .map((a) => Number(a.params.replicas))
    // The audit record of the scale in reaches the bus after the patch reaches the API server.
    await until(
      async () => ((await read('frontend')).spec.replicas === 2 && scales().at(-1) === 2 ? true : undefined),
      () => `frontend back at 2, with its action recorded (executed scales: ${scales().join(', ')})`,
    )
    expect(Date.now() - calmSince).toBeGreaterThanOrEqual(2_000)
    expect(Math.max(...scales())).toBe(6)
    expect(scales().at(-1)).toBe(2)
    await remediator.stop()
  })

  it('stops everything with the kill switch, and waits for an approval through a command', async () => {
    const remediator = await remediatorAs(POLICIES)
    const gated = await incidentOn('ads', 'saturation_gated')
    const waiting = await decided(gated, 'pending_approval')
    expect((await read('ads')).spec.replicas).toBe(2)
    await harness.bus.publish(TOPICS.remediationCommands, [
      { key: 'c', value: { type: 'approve', actionId: waiting.id, by: 'ana' } },
    ])
    await decided(gated, 'executed')
    expect((await read('ads')).spec.replicas).toBe(3)

    await harness.bus.publish(TOPICS.remediationCommands, [
      { key: 'c', value: { type: 'kill_switch', on: true, by: 'oncall' } },
    ])
    await until(() => (remediator.guardrails.settings.killSwitch ? true : undefined), 'the kill switch')
    const crash = await incidentOn('cart', 'crash_loop')
    expect(await decided(crash)).toMatchObject({
      status: 'skipped',
      reason: 'the kill switch is on: no action runs',
    })
    await remediator.stop()
  })
})
