/**
 * Decision-to-applied latency of remediation on a real control plane (scripts/kube-start.sh):
 * incidents are published on the bus, the remediator matches its policy, passes the guardrails
 * and restarts or scales a Deployment; the time runs from the incident's publish to the change
 * visible in the API server (a watch-free read loop), and to the audit record.
 *
 *   npm run bench:remediation -- [--actions 40]
 */
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { TOPICS, createMetricsRegistry, type Action } from '../core/index.js'
import { createInProcessBus } from '../bus/index.js'
import { getJson, loadKubeConfig, writeJson } from '../kube/index.js'
import { createKubeExecutor } from '../remediation/kube-executor.js'
import { parseRemediationConfig } from '../remediation/policy-config.js'
import { createRemediator } from '../remediation/remediator.js'
import { quietLogger } from '../test/helpers/quiet-logger.js'
import { publishWorkloadIncident } from '../test/helpers/workload-incident.js'

const { values } = parseArgs({ options: { actions: { type: 'string', default: '40' } } })
const rounds = Number(values.actions)
const env = {
  ...process.env,
  KUBE_STATE_DIR: join(tmpdir(), 'argus-kube-bench'),
  KUBE_API_PORT: '18443',
  KUBE_ETCD_PORT: '14379',
  KUBE_KCM_PORT: '22257',
  KUBE_SCHEDULER_PORT: '22259',
  KUBE_KUBELET_PORT: '22250',
  KUBE_FRESH: '1',
}
console.log('starting a local control plane (scripts/kube-start.sh; built once, then cached)')
const kubeconfigPath = execFileSync('bash', ['scripts/kube-start.sh'], {
  env,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim()
const kube = loadKubeConfig({ kind: 'file', path: kubeconfigPath })
const ns = 'bench'
const metrics = createMetricsRegistry({ defaultMetrics: false })
const bus = createInProcessBus({ logger: quietLogger(), metrics, partitions: 2, partitionCapacity: 100_000 })
const workloads = Array.from({ length: 10 }, (_, i) => `svc-${i}`)

try {
  await writeJson(kube, 'POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  })
  for (const name of workloads)
    await writeJson(kube, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name, image: `${name}:1` }] },
        },
      },
    })
  const remediator = createRemediator({
    bus,
    logger: quietLogger(),
    metrics,
    executor: createKubeExecutor(kube),
    config: parseRemediationConfig(`
mode: enforce
rate_limit: { max: 100000, per: 1h }
policies:
  - name: restart
    match: { anomaly_kinds: [crash_loop] }
    actions: [{ action: restart }]
    dry_run: false
    cooldown: 0s
    rate_limit: { max: 100000, per: 1h }
`),
  })
  await remediator.start()
  const audited = new Map<string, number>()
  await bus.subscribe<Action>({
    group: 'bench-audit',
    topics: [TOPICS.actions],
    handler: async (batch) => {
      for (const { value } of batch.messages)
        if (value.status === 'executed' && value.incidentId) audited.set(value.incidentId, performance.now())
    },
  })

  const lastStamp = new Map<string, string>()
  const applied: number[] = []
  const recorded: number[] = []
  for (let i = 0; i < rounds; i++) {
    const name = workloads[i % workloads.length] as string
    const id = `inc-bench-${i}`
    let started = 0
    await publishWorkloadIncident(bus, {
      id,
      cluster: 'bench',
      namespace: ns,
      name,
      anomalyKind: 'crash_loop',
      beforeIncident: () => (started = performance.now()),
    })
    // Applied: the API server shows the restart stamp of this decision.
    for (;;) {
      const d = await getJson<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(
        kube,
        `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
      )
      const stamp = d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']
      if (stamp?.startsWith('act-') && stamp !== lastStamp.get(name)) {
        lastStamp.set(name, stamp)
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    applied.push(performance.now() - started)
    while (!audited.has(id)) await new Promise((resolve) => setTimeout(resolve, 5))
    recorded.push((audited.get(id) as number) - started)
  }
  await remediator.stop()
  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? NaN
  console.log(`actions              ${rounds} restarts of ${workloads.length} Deployments, one at a time`)
  console.log(
    `incident -> applied  p50 ${q(applied, 0.5).toFixed(0)} ms, p95 ${q(applied, 0.95).toFixed(0)} ms, max ${Math.max(...applied).toFixed(0)} ms`,
  )
  console.log(
    `incident -> audited  p50 ${q(recorded, 0.5).toFixed(0)} ms, p95 ${q(recorded, 0.95).toFixed(0)} ms`,
  )
} finally {
  await bus.stop()
  execFileSync('bash', ['scripts/kube-stop.sh'], { env, stdio: 'inherit' })
}
