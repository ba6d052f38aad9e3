import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { createInProcessBus, type Bus } from '../../../bus/index.js'
import {
  TOPICS,
  createMetricsRegistry,
  sleep,
  type MetricSample,
  type ObjectState,
  type ResourceChange,
} from '../../../core/index.js'
import {
  createKubeCollector,
  createKubeletScraper,
  createRawIntake,
  type KubeCollector,
} from '../../../ingest/index.js'
import { getJson, KubeApiError, loadKubeConfig } from '../../../kube/index.js'
import { deploymentManifest, kubeAdmin } from '../../helpers/kube-admin.js'
import { until } from '../../helpers/until.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import type { Component } from '../../../core/index.js'

// The collector and the kubelet scraper run as the ServiceAccount of deploy/kubernetes/collector-rbac.yaml,
// with a token from the TokenRequest API: everything they need works, and anything else is refused.
const stateDir = inject('kubeStateDir')
const admin = kubeAdmin(stateDir, 17443)
const dir = mkdtempSync(join(tmpdir(), 'argus-rbac-'))
const ns = `rbac-${Date.now().toString(36)}`
const states: ObjectState[] = []
const changes: ResourceChange[] = []
const samples: MetricSample[] = []
let token = ''
let bus: Bus
let collector: KubeCollector | undefined
let scraper: Component | undefined

const COLLECTIONS: Record<string, (namespace?: string) => string> = {
  Namespace: () => '/api/v1/namespaces',
  ServiceAccount: (namespace) => `/api/v1/namespaces/${namespace}/serviceaccounts`,
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
}

/** kubectl apply, for the kinds the manifest holds. */
async function applyManifest(path: string): Promise<void> {
  for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
    const object = document.toJS() as { kind: string; metadata: { namespace?: string } }
    const collection = COLLECTIONS[object.kind]
    if (!collection) throw new Error(`the test cannot apply a ${object.kind}`)
    await admin.create(collection(object.metadata.namespace), object).catch((error: Error) => {
      if (!/ 409 /.test(error.message)) throw error
    })
  }
}

/** A request as the collector's ServiceAccount; answers the HTTP status. */
function asCollector(method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: 17443,
        path,
        method,
        ca: readFileSync(`${stateDir}/pki/ca.crt`),
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        },
      },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    if (body !== undefined) req.write(JSON.stringify(body))
    req.end()
  })
}

beforeAll(async () => {
  await applyManifest('deploy/kubernetes/collector-rbac.yaml')
  const issued = await admin.create<{ status: { token: string } }>(
    '/api/v1/namespaces/argus/serviceaccounts/argus-collector/token',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  )
  token = issued.status.token
  const kubeconfig = join(dir, 'collector.kubeconfig')
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: { server: 'https://127.0.0.1:17443', 'certificate-authority': `${stateDir}/pki/ca.crt` },
        },
      ],
      users: [{ name: 'argus-collector', user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'argus-collector' } }],
      'current-context': 'test',
    }),
  )
  const config = loadKubeConfig({ kind: 'file', path: kubeconfig })
  const metrics = createMetricsRegistry({ defaultMetrics: false })
  bus = createInProcessBus({ logger: quietLogger(), metrics, partitions: 2, partitionCapacity: 50_000 })
  const collect =
    <T>(into: T[]) =>
    async (batch: { messages: ReadonlyArray<{ value: T }> }) => {
      into.push(...batch.messages.map((m) => m.value))
    }
  await bus.subscribe<ObjectState>({
    group: 'states',
    topics: [TOPICS.objectStates],
    handler: collect(states),
  })
  await bus.subscribe<ResourceChange>({
    group: 'changes',
    topics: [TOPICS.resourceChanges],
    handler: collect(changes),
  })
  await bus.subscribe<MetricSample>({ group: 'metrics', topics: [TOPICS.metrics], handler: collect(samples) })
  const intake = createRawIntake({
    bus,
    logger: quietLogger(),
    metrics,
    cluster: 'rbac',
    publishTimeoutMs: 5_000,
  })
  collector = createKubeCollector({
    config,
    cluster: 'rbac',
    intake,
    logger: quietLogger(),
    metrics,
    checkpointFile: join(dir, 'checkpoints.json'),
  })
  await collector.start()
  const watching = collector
  // kwok serves each fake kubelet's endpoints under a per-node path.
  scraper = createKubeletScraper({
    config,
    intake,
    logger: quietLogger(),
    metrics,
    nodes: () => watching.readyNodes(),
    intervalMs: 1000,
    paths: ['/metrics/nodes/{node}/metrics/resource', '/metrics/nodes/{node}/metrics/cadvisor'],
  })
  await admin.createNamespace(ns)
})

afterAll(async () => {
  await scraper?.stop()
  await collector?.stop()
  await bus?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('the collector under its least-privilege role', () => {
  it('lists and watches everything it needs, with events.k8s.io/v1 Events', async () => {
    await Promise.race([
      collector?.synced,
      sleep(60_000).then(() => {
        throw new Error('not every resource could be listed under the role')
      }),
    ])
    expect(collector?.watching().map((r) => r.path)).toContain('/apis/events.k8s.io/v1/events')
    expect(collector?.readyNodes().sort()).toEqual(['kwok-node-1', 'kwok-node-2'])
  })

  it('reports a Deployment, its pods and their container metrics from the kubelet', async () => {
    await scraper?.start()
    await admin.createDeployment(
      deploymentManifest({
        namespace: ns,
        name: 'cart',
        replicas: 2,
        containers: [{ name: 'cart', image: 'shop/cart:1' }],
        // kwok reports these as the containers' usage.
        podAnnotations: { 'kwok.x-k8s.io/usage-memory': '64Mi', 'kwok.x-k8s.io/usage-cpu': '250m' },
      }),
    )
    await until(() => changes.find((c) => c.namespace === ns && c.changeKind === 'create'), 'the create')
    await until(
      () => states.find((s) => s.namespace === ns && s.phase === 'Running' && s.workload?.name === 'cart'),
      'a running pod',
    )
    const memory = await until(
      () =>
        samples.find(
          (s) =>
            s.name === 'container_memory_working_set_bytes' && s.namespace === ns && s.container === 'cart',
        ),
      'container memory from /metrics/resource',
    )
    expect(memory.value).toBe(64 * 1024 * 1024)
    expect(memory.pod).toMatch(/^cart-/)
    expect(memory.workload).toEqual({ kind: 'Deployment', name: 'cart' })
    expect(memory.node).toMatch(/^kwok-node-/)
    const cadvisor = await until(
      () =>
        samples.find(
          (s) =>
            s.name === 'container_memory_usage_bytes' &&
            s.namespace === ns &&
            s.labels.image === 'shop/cart:1',
        ),
      'container memory usage from /metrics/cadvisor',
    )
    expect([cadvisor.type, cadvisor.value]).toEqual(['gauge', 64 * 1024 * 1024])
  })

  it('is refused secrets, writes and anything outside the role', async () => {
    const config = loadKubeConfig({ kind: 'file', path: join(dir, 'collector.kubeconfig') })
    const refused = await getJson(config, '/api/v1/secrets').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(KubeApiError)
    expect((refused as KubeApiError).status).toBe(403)
    const deployment = `/apis/apps/v1/namespaces/${ns}/deployments/cart`
    expect(await asCollector('GET', deployment)).toBe(200)
    expect(await asCollector('PATCH', deployment, { spec: { replicas: 5 } })).toBe(403)
    expect(await asCollector('PATCH', `${deployment}/scale`, { spec: { replicas: 5 } })).toBe(403)
    expect(await asCollector('DELETE', `/api/v1/namespaces/${ns}/pods/any`)).toBe(403)
    expect(
      await asCollector('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x' },
      }),
    ).toBe(403)
    expect(await asCollector('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles')).toBe(403)
    expect(await asCollector('GET', '/api/v1/namespaces/argus/serviceaccounts')).toBe(403)
  })
})
