import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { startArgus, type ArgusProcess } from '../../helpers/argus-process.js'
import { deploymentManifest, kubeAdmin } from '../../helpers/kube-admin.js'

// `argus start` with KUBECONFIG set: no demo cluster; the real cluster's changes reach storage.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-on-cluster-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

type Counts = { kubeEvents: number; resourceChanges: number; objectStates: number; metrics: number }
async function counts(): Promise<Counts> {
  const response = await fetch(`${argus?.url}/api/v1/signals/counts?from=-1h&to=${Date.now() + 3_600_000}`)
  return ((await response.json()) as { counts: Counts }).counts
}

describe('argus start on a real cluster', () => {
  it('turns the demo off, watches the cluster, and stores its changes, events, pod states and kubelet metrics', async () => {
    argus = await startArgus({
      dataDir,
      env: {
        KUBECONFIG: inject('kubeconfig'),
        ARGUS_WRITER_MAX_WAIT_MS: '100',
        ARGUS_KUBE_METRICS_INTERVAL_MS: '1000',
        // kwok serves each fake kubelet's endpoints under a per-node path.
        ARGUS_KUBE_METRICS_PATHS:
          '/metrics/nodes/{node}/metrics/resource,/metrics/nodes/{node}/metrics/cadvisor',
      },
    })
    const logs = () => argus?.logs.join('\n') ?? ''
    expect(logs()).toContain('the simulated cluster is off')
    expect(logs()).not.toContain('SIMULATED')
    const ns = `on-cluster-${Date.now().toString(36)}`
    const admin = kubeAdmin(inject('kubeStateDir'), 17443)
    await admin.createNamespace(ns)
    const before = await counts()
    await admin.createDeployment(
      deploymentManifest({
        namespace: ns,
        name: 'api',
        replicas: 2,
        containers: [{ name: 'api', image: 'api:1' }],
      }),
    )
    const deadline = Date.now() + 60_000
    let now = before
    while (Date.now() < deadline) {
      now = await counts()
      if (
        now.resourceChanges > before.resourceChanges &&
        now.kubeEvents > before.kubeEvents &&
        now.objectStates >= before.objectStates + 2 && // the two new pods
        now.metrics > before.metrics
      )
        break
      await sleep(500)
    }
    expect(now.resourceChanges).toBeGreaterThan(before.resourceChanges)
    expect(now.kubeEvents).toBeGreaterThan(before.kubeEvents)
    expect(now.objectStates).toBeGreaterThanOrEqual(before.objectStates + 2)
    expect(now.metrics).toBeGreaterThan(before.metrics)
    expect(logs()).toContain('watching the cluster')
  })

  it('turns a pod that cannot be scheduled into an anomaly, served by the anomalies API', async () => {
    const ns = `anomaly-${Date.now().toString(36)}`
    const admin = kubeAdmin(inject('kubeStateDir'), 17443)
    await admin.createNamespace(ns)
    await admin.create(`/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stuck', namespace: ns },
      spec: {
        nodeSelector: { 'disk-type': 'does-not-exist' },
        containers: [{ name: 'main', image: 'app:1' }],
      },
    })
    type Found = {
      anomalies: Array<{ kind: string; severity: string; entity: { name: string }; summary: string }>
    }
    let found: Found['anomalies'] = []
    for (
      const deadline = Date.now() + 60_000;
      Date.now() < deadline && found.length === 0;
      await sleep(500)
    ) {
      const response = await fetch(
        `${argus?.url}/api/v1/anomalies?from=-1h&to=${Date.now() + 60_000}&namespace=${ns}`,
      )
      found = ((await response.json()) as Found).anomalies
    }
    expect(found[0]).toMatchObject({ kind: 'unschedulable', severity: 'warning', entity: { name: 'stuck' } })
    expect(found[0]?.summary).toContain('FailedScheduling')
  })
})
