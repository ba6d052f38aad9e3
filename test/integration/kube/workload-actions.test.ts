import { beforeAll, describe, expect, inject, it } from 'vitest'
import {
  deletePod,
  KubeApiError,
  loadKubeConfig,
  restartWorkload,
  rollbackDeployment,
  scaleWorkload,
  setContainerMemoryLimit,
  setHpaBounds,
} from '../../../kube/index.js'
import { deploymentManifest, kubeAdmin } from '../../helpers/kube-admin.js'
import { until } from '../../helpers/until.js'

// The typed actions remediation uses, against the real API server: each does what kubectl would,
// is idempotent, honours server-side dry run, and leaves its name in managedFields.
const admin = kubeAdmin(inject('kubeStateDir'), 17443)
const config = loadKubeConfig({ kind: 'file', path: inject('kubeconfig') })
const ns = `actions-${Date.now().toString(36)}`
const target = { kind: 'Deployment' as const, namespace: ns, name: 'api' }
const deploymentPath = `/apis/apps/v1/namespaces/${ns}/deployments/api`

interface Deployment {
  metadata: {
    annotations?: Record<string, string>
    managedFields?: Array<{ manager: string }>
    generation: number
  }
  spec: {
    replicas: number
    template: {
      metadata: { annotations?: Record<string, string> }
      spec: {
        containers: Array<{ name: string; image: string; resources?: { limits?: Record<string, string> } }>
      }
    }
  }
  status: { observedGeneration?: number; updatedReplicas?: number }
}
const read = () => admin.get<Deployment>(deploymentPath)

/** Waits until the Deployment controller has created the ReplicaSet of the current template. */
const settled = (revision: string) =>
  until(async () => {
    const d = await read()
    return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision &&
      d.status.observedGeneration === d.metadata.generation
      ? d
      : undefined
  }, `revision ${revision}`)

beforeAll(async () => {
  await admin.createNamespace(ns)
  await admin.createDeployment(
    deploymentManifest({
      namespace: ns,
      name: 'api',
      replicas: 2,
      containers: [
        { name: 'api', image: 'api:1', resources: { limits: { memory: '256Mi' } } },
        { name: 'sidecar', image: 'proxy:1' },
      ],
    }),
  )
  await settled('1')
})

describe('workload actions on a real API server', () => {
  it('scales through the scale subresource; the same scale again changes nothing; dry run stores nothing', async () => {
    expect(await scaleWorkload(config, target, 4, { dryRun: true })).toMatchObject({
      changed: true,
      dryRun: true,
      detail: { from: 2, to: 4 },
    })
    expect((await read()).spec.replicas).toBe(2)
    expect(await scaleWorkload(config, target, 4)).toMatchObject({
      changed: true,
      detail: { from: 2, to: 4 },
    })
    expect((await read()).spec.replicas).toBe(4)
    expect((await scaleWorkload(config, target, 4)).changed).toBe(false)
    expect((await read()).metadata.managedFields?.map((f) => f.manager)).toContain('argus')
  })

  it('rolls back to the previous revision once, however often the action is repeated', async () => {
    await admin.patch(deploymentPath, {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'api', image: 'api:2' },
              { name: 'sidecar', image: 'proxy:1' },
            ],
          },
        },
      },
    })
    await settled('2')
    const result = await rollbackDeployment(config, { namespace: ns, name: 'api' }, { fromRevision: '2' })
    expect(result).toMatchObject({ changed: true, detail: { fromRevision: '2', toRevision: '1' } })
    expect(result.detail.toImages).toBe('api=api:1,sidecar=proxy:1')
    const rolledBack = await settled('3') // the old template comes back as a new revision
    expect(rolledBack.spec.template.spec.containers[0]?.image).toBe('api:1')
    // Repeated (a retry, a second alert): the Deployment is no longer at revision 2.
    expect(
      (await rollbackDeployment(config, { namespace: ns, name: 'api' }, { fromRevision: '2' })).changed,
    ).toBe(false)
    expect((await read()).spec.template.spec.containers[0]?.image).toBe('api:1')
  })

  it('restarts with a stamp once, and raises one container memory limit leaving the other container alone', async () => {
    expect((await restartWorkload(config, target, 'incident-42')).changed).toBe(true)
    expect((await restartWorkload(config, target, 'incident-42')).changed).toBe(false)
    expect((await read()).spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(
      'incident-42',
    )
    const raised = await setContainerMemoryLimit(config, target, 'api', '512Mi')
    expect(raised).toMatchObject({ changed: true, detail: { container: 'api', from: '256Mi', to: '512Mi' } })
    const containers = (await read()).spec.template.spec.containers
    expect(containers.map((c) => [c.name, c.image, c.resources?.limits?.memory])).toEqual([
      ['api', 'api:1', '512Mi'],
      ['sidecar', 'proxy:1', undefined],
    ])
    await expect(setContainerMemoryLimit(config, target, 'api', 'lots')).rejects.toThrow(
      /not a memory quantity/,
    )
    await expect(setContainerMemoryLimit(config, target, 'nope', '1Gi')).rejects.toThrow(/no container nope/)
  })

  it('deletes exactly the pod meant, and a pod already gone is not an error', async () => {
    // A pod of its own: the Deployment's pods may be terminating after the earlier rollouts.
    const created = await admin.create<{ metadata: { name: string; uid: string } }>(
      `/api/v1/namespaces/${ns}/pods`,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'victim', namespace: ns },
        spec: { containers: [{ name: 'main', image: 'busybox:1' }] },
      },
    )
    const pod = { name: created.metadata.name, uid: created.metadata.uid }
    expect((await deletePod(config, { namespace: ns, name: pod.name, uid: 'some-other-uid' })).changed).toBe(
      false,
    )
    expect((await deletePod(config, { namespace: ns, ...pod }, { gracePeriodSeconds: 0 })).changed).toBe(true)
    expect((await deletePod(config, { namespace: ns, ...pod })).changed).toBe(false)
  })

  it('sets HPA bounds, refuses impossible ones, and surfaces API errors with their status', async () => {
    await admin.create(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
        minReplicas: 2,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
        ],
      },
    })
    const hpa = { namespace: ns, name: 'api' }
    expect(await setHpaBounds(config, hpa, { maxReplicas: 10 })).toMatchObject({
      changed: true,
      detail: { fromMin: 2, fromMax: 5, toMin: 2, toMax: 10 },
    })
    expect((await setHpaBounds(config, hpa, { maxReplicas: 10 })).changed).toBe(false)
    await expect(setHpaBounds(config, hpa, { minReplicas: 12 })).rejects.toThrow(/would exceed maxReplicas/)
    const missing = await scaleWorkload(config, { ...target, name: 'missing' }, 1).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(KubeApiError)
    expect((missing as KubeApiError).status).toBe(404)
  })
})
