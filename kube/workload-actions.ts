import type { KubeConfig } from '@kubernetes/client-node'
import { ArgusError, backoffDelay, DEFAULT_RETRY, sleep } from '../core/index.js'
import { getJson, KubeApiError, writeJson } from './kube-request.js'

/** A workload the actions can change. */
export interface WorkloadTarget {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'
  namespace: string
  name: string
}

export interface ActionOptions {
  /** Server-side dry run (`dryRun=All`): the API server validates and admits, but stores nothing. */
  dryRun?: boolean
  /** Recorded in managedFields, so the change shows who made it; `argus` by default. */
  fieldManager?: string
}

/** What an action did: `changed` is false when the target was already as asked (idempotent). */
export interface ActionResult {
  changed: boolean
  dryRun: boolean
  /** Before and after values, for the audit trail and the chat message. */
  detail: Record<string, string | number>
}

interface Meta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: Array<{ uid?: string; controller?: boolean }>
}
interface Container {
  name: string
  image?: string
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> }
}
interface PodTemplate {
  metadata?: Meta
  spec?: { containers?: Container[] }
}
interface Workload {
  metadata: Meta
  spec: { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: PodTemplate }
}

const PLURAL: Record<WorkloadTarget['kind'], string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
}
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'
const REVISION = 'deployment.kubernetes.io/revision'
const CONFLICT_ATTEMPTS = 8

const workloadPath = (t: WorkloadTarget): string =>
  `/apis/apps/v1/namespaces/${encodeURIComponent(t.namespace)}/${PLURAL[t.kind]}/${encodeURIComponent(t.name)}`

const writeQuery = (options: ActionOptions): Record<string, string | undefined> => ({
  fieldManager: options.fieldManager ?? 'argus',
  dryRun: options.dryRun ? 'All' : undefined,
})

/**
 * Runs a read-modify-write; a 409 Conflict (someone changed the object between our read and our
 * write, detected by the resourceVersion we send) is retried on fresh state, after a short backoff:
 * during a rollout the controller updates the Deployment's status many times a second, and retries
 * at once can all lose to it (CI saw five in a row).
 */
async function onFreshState<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.status !== 409 || i >= CONFLICT_ATTEMPTS) throw error
      await sleep(backoffDelay(i, CONFLICT_BACKOFF))
    }
  }
}
const CONFLICT_BACKOFF = { ...DEFAULT_RETRY, initialDelayMs: 50, maxDelayMs: 1_000 }

/** Scales a Deployment or StatefulSet through its scale subresource (as the HPA does). */
export async function scaleWorkload(
  config: KubeConfig,
  target: WorkloadTarget,
  replicas: number,
  options: ActionOptions = {},
): Promise<ActionResult> {
  if (target.kind === 'DaemonSet') throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a DaemonSet cannot be scaled')
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `replicas must be a whole number >= 0, got ${replicas}`)
  const path = `${workloadPath(target)}/scale`
  return onFreshState(async () => {
    const scale = await getJson<{ metadata: Meta; spec: { replicas?: number } }>(config, path)
    const from = scale.spec.replicas ?? 0
    if (from === replicas) return { changed: false, dryRun: !!options.dryRun, detail: { from, to: replicas } }
    await writeJson(
      config,
      'PATCH',
      path,
      { metadata: { resourceVersion: scale.metadata.resourceVersion }, spec: { replicas } },
      { query: writeQuery(options) },
    )
    return { changed: true, dryRun: !!options.dryRun, detail: { from, to: replicas } }
  })
}

/**
 * `kubectl rollout restart`: stamps the pod template so the controller replaces every pod. The
 * stamp is the caller's (an action id or time): the same stamp twice restarts once.
 */
export async function restartWorkload(
  config: KubeConfig,
  target: WorkloadTarget,
  stamp: string,
  options: ActionOptions = {},
): Promise<ActionResult> {
  const path = workloadPath(target)
  return onFreshState(async () => {
    const workload = await getJson<Workload>(config, path)
    const previous = workload.spec.template?.metadata?.annotations?.[RESTARTED_AT]
    if (previous === stamp)
      return { changed: false, dryRun: !!options.dryRun, detail: { restartedAt: stamp } }
    await writeJson(
      config,
      'PATCH',
      path,
      {
        metadata: { resourceVersion: workload.metadata.resourceVersion },
        spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } },
      },
      { query: writeQuery(options) },
    )
    return { changed: true, dryRun: !!options.dryRun, detail: { restartedAt: stamp } }
  })
}

/**
 * Deletes one pod (its controller replaces it). With `uid`, only that incarnation is deleted: a
 * replacement that took the same name (StatefulSet) is left alone. An already deleted pod is not
 * an error.
 */
export async function deletePod(
  config: KubeConfig,
  pod: { namespace: string; name: string; uid?: string },
  options: ActionOptions & { gracePeriodSeconds?: number } = {},
): Promise<ActionResult> {
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' }
  if (pod.uid) body.preconditions = { uid: pod.uid }
  if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds
  if (options.dryRun) body.dryRun = ['All']
  try {
    // Already terminating counts as done: deleting again would only restart the grace period.
    const current = await getJson<{ metadata: Meta & { deletionTimestamp?: string } }>(config, path)
    if (current.metadata.deletionTimestamp || (pod.uid && current.metadata.uid !== pod.uid))
      return { changed: false, dryRun: !!options.dryRun, detail: { pod: pod.name } }
    await writeJson(config, 'DELETE', path, body)
    return { changed: true, dryRun: !!options.dryRun, detail: { pod: pod.name } }
  } catch (error) {
    // 404: gone already; 409 on a uid precondition: a new pod has the name, not the one meant.
    if (error instanceof KubeApiError && (error.status === 404 || (error.status === 409 && pod.uid)))
      return { changed: false, dryRun: !!options.dryRun, detail: { pod: pod.name } }
    throw error
  }
}

/**
 * `kubectl rollout undo`: puts the pod template of the Deployment's previous revision back. With
 * `fromRevision`, only a Deployment still at that revision is rolled back, so a retried or
 * repeated action does not roll back twice.
 */
export async function rollbackDeployment(
  config: KubeConfig,
  target: { namespace: string; name: string },
  options: ActionOptions & { fromRevision?: string } = {},
): Promise<ActionResult> {
  const path = workloadPath({ kind: 'Deployment', ...target })
  return onFreshState(async (): Promise<ActionResult> => {
    const deployment = await getJson<Workload>(config, path)
    const current = deployment.metadata.annotations?.[REVISION]
    if (options.fromRevision !== undefined && current !== options.fromRevision)
      return { changed: false, dryRun: !!options.dryRun, detail: { revision: current ?? '' } }
    const selector = Object.entries(deployment.spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
    const replicaSets = await getJson<{ items: Array<{ metadata: Meta; spec: { template?: PodTemplate } }> }>(
      config,
      `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/replicasets`,
      { labelSelector: selector },
    )
    const revisionOf = (m: Meta): number => Number(m.annotations?.[REVISION] ?? 0)
    const previous = replicaSets.items
      .filter((rs) =>
        rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === deployment.metadata.uid),
      )
      .filter((rs) => revisionOf(rs.metadata) < Number(current ?? 0))
      .sort((a, b) => revisionOf(b.metadata) - revisionOf(a.metadata))[0]
    if (!previous?.spec.template)
      throw new ArgusError(
        'ARGUS_ERR_NOT_FOUND',
        `${target.namespace}/${target.name} has no earlier revision`,
      )
    const template = structuredClone(previous.spec.template)
    // The ReplicaSet's own label; the Deployment controller adds it again.
    delete template.metadata?.labels?.['pod-template-hash']
    const imagesOf = (t: PodTemplate | undefined): string =>
      (t?.spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? ''}`).join(',')
    await writeJson(
      config,
      'PUT',
      path,
      { ...deployment, spec: { ...deployment.spec, template } },
      {
        query: writeQuery(options),
      },
    )
    return {
      changed: true,
      dryRun: !!options.dryRun,
      detail: {
        fromRevision: current ?? '',
        toRevision: String(revisionOf(previous.metadata)),
        fromImages: imagesOf(deployment.spec.template),
        toImages: imagesOf(template),
      },
    }
  })
}

/** Sets an HPA's replica bounds (either or both). */
export async function setHpaBounds(
  config: KubeConfig,
  hpa: { namespace: string; name: string },
  bounds: { minReplicas?: number; maxReplicas?: number },
  options: ActionOptions = {},
): Promise<ActionResult> {
  const { minReplicas, maxReplicas } = bounds
  if (minReplicas !== undefined && (!Number.isInteger(minReplicas) || minReplicas < 1))
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `minReplicas must be a whole number >= 1, got ${minReplicas}`)
  if (maxReplicas !== undefined && (!Number.isInteger(maxReplicas) || maxReplicas < (minReplicas ?? 1)))
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `maxReplicas must be >= minReplicas, got ${maxReplicas}`)
  const path = `/apis/autoscaling/v2/namespaces/${encodeURIComponent(hpa.namespace)}/horizontalpodautoscalers/${encodeURIComponent(hpa.name)}`
  return onFreshState(async () => {
    const current = await getJson<{ metadata: Meta; spec: { minReplicas?: number; maxReplicas: number } }>(
      config,
      path,
    )
    const detail = {
      fromMin: current.spec.minReplicas ?? 1,
      fromMax: current.spec.maxReplicas,
      toMin: minReplicas ?? current.spec.minReplicas ?? 1,
      toMax: maxReplicas ?? current.spec.maxReplicas,
    }
    if (detail.toMin > detail.toMax)
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        `minReplicas ${detail.toMin} would exceed maxReplicas ${detail.toMax}`,
      )
    if (detail.fromMin === detail.toMin && detail.fromMax === detail.toMax)
      return { changed: false, dryRun: !!options.dryRun, detail }
    await writeJson(
      config,
      'PATCH',
      path,
      {
        metadata: { resourceVersion: current.metadata.resourceVersion },
        spec: { minReplicas: detail.toMin, maxReplicas: detail.toMax },
      },
      { query: writeQuery(options) },
    )
    return { changed: true, dryRun: !!options.dryRun, detail }
  })
}

/**
 * Sets one container's memory limit in a workload's pod template (a rollout follows). The bound
 * (how far a limit may be raised) is the caller's policy; this only refuses a non-quantity.
 */
export async function setContainerMemoryLimit(
  config: KubeConfig,
  target: WorkloadTarget,
  container: string,
  limit: string,
  options: ActionOptions = {},
): Promise<ActionResult> {
  if (!/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(limit))
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `"${limit}" is not a memory quantity such as 512Mi`)
  const path = workloadPath(target)
  return onFreshState(async () => {
    const workload = await getJson<Workload>(config, path)
    const found = workload.spec.template?.spec?.containers?.find((c) => c.name === container)
    if (!found)
      throw new ArgusError(
        'ARGUS_ERR_NOT_FOUND',
        `${target.kind} ${target.name} has no container ${container}`,
      )
    const from = found.resources?.limits?.memory ?? ''
    if (from === limit)
      return { changed: false, dryRun: !!options.dryRun, detail: { container, from, to: limit } }
    // Strategic merge: containers are merged by name, the others stay as they are.
    await writeJson(
      config,
      'PATCH',
      path,
      {
        metadata: { resourceVersion: workload.metadata.resourceVersion },
        spec: {
          template: { spec: { containers: [{ name: container, resources: { limits: { memory: limit } } }] } },
        },
      },
      { patchType: 'strategic', query: writeQuery(options) },
    )
    return { changed: true, dryRun: !!options.dryRun, detail: { container, from, to: limit } }
  })
}
