import {
  deletePod,
  getJson,
  restartWorkload,
  rollbackDeployment,
  scaleWorkload,
  setContainerMemoryLimit,
  setHpaBounds,
  type ActionResult,
  type KubeConfig,
  type WorkloadTarget,
} from '../kube/index.js'
import { ArgusError } from '../core/index.js'
import type { PolicyStep } from './policy-config.js'

/** What the remediator needs of the cluster: a target's state, and the actions. */
export interface RemediationExecutor {
  replicas(target: WorkloadTarget): Promise<number>
  labels(target: WorkloadTarget): Promise<Record<string, string>>
  /** Runs one step; with `dryRun` the API server validates and admits it but stores nothing. */
  run(
    step: PolicyStep,
    target: WorkloadTarget,
    options: { actionId: string; dryRun: boolean; replicas?: number; pod?: string },
  ): Promise<ActionResult>
}

const PLURAL = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' } as const
const path = (t: WorkloadTarget): string =>
  `/apis/apps/v1/namespaces/${encodeURIComponent(t.namespace)}/${PLURAL[t.kind]}/${encodeURIComponent(t.name)}`

/** The executor on a real cluster, through the typed actions in kube/ (conflicts retried there). */
export function createKubeExecutor(config: KubeConfig): RemediationExecutor {
  const options = (dryRun: boolean) => ({ dryRun, fieldManager: 'argus-remediator' })
  return {
    async replicas(target) {
      const scale = await getJson<{ spec: { replicas?: number } }>(config, `${path(target)}/scale`)
      return scale.spec.replicas ?? 0
    },
    async labels(target) {
      const workload = await getJson<{ metadata: { labels?: Record<string, string> } }>(config, path(target))
      return workload.metadata.labels ?? {}
    },
    async run(step, target, { actionId, dryRun, replicas, pod }) {
      switch (step.kind) {
        case 'scale':
          return scaleWorkload(config, target, replicas ?? 0, options(dryRun))
        case 'restart':
          return restartWorkload(config, target, actionId, options(dryRun))
        case 'rollback':
          if (target.kind !== 'Deployment')
            throw new ArgusError('ARGUS_ERR_BAD_INPUT', `rollback needs a Deployment, not a ${target.kind}`)
          return rollbackDeployment(config, target, options(dryRun))
        case 'delete_pod':
          if (!pod)
            throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'delete_pod needs the pod the root cause names')
          return deletePod(config, { namespace: target.namespace, name: pod }, options(dryRun))
        case 'patch_hpa':
          return setHpaBounds(
            config,
            { namespace: target.namespace, name: target.name },
            {
              ...(step.min !== undefined && { minReplicas: step.min }),
              ...(step.max !== undefined && { maxReplicas: step.max }),
            },
            options(dryRun),
          )
        case 'raise_memory_limit':
          return setContainerMemoryLimit(
            config,
            target,
            step.container ?? target.name,
            step.memory as string,
            options(dryRun),
          )
        default:
          return { changed: false, dryRun, detail: {} }
      }
    },
  }
}
