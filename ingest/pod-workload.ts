import { setBounded, type WorkloadRef } from '../core/index.js'

/**
 * Infers a pod's owning workload from its name and the labels Kubernetes controllers set, for
 * sources (log shippers) that carry pod metadata but no owner references. The Kubernetes collector
 * resolves ownership exactly; this is the best a log line alone allows.
 */
export function inferWorkload(podName: string, labels: Record<string, string>): WorkloadRef | undefined {
  const templateHash = labels['pod-template-hash']
  if (templateHash) {
    // Deployment pods are named <deployment>-<pod-template-hash>-<suffix>.
    const marker = `-${templateHash}-`
    const at = podName.lastIndexOf(marker)
    if (at > 0) return { kind: 'Deployment', name: podName.slice(0, at) }
    return { kind: 'ReplicaSet', name: podName.replace(/-[a-z0-9]{5}$/, '') }
  }
  if (
    labels['statefulset.kubernetes.io/pod-name'] ||
    (labels['controller-revision-hash'] && /-\d+$/.test(podName) && !labels['pod-template-generation'])
  ) {
    return { kind: 'StatefulSet', name: podName.replace(/-\d+$/, '') }
  }
  if (labels['pod-template-generation'] && labels['controller-revision-hash']) {
    return { kind: 'DaemonSet', name: podName.replace(/-[a-z0-9]{5}$/, '') }
  }
  if (labels['job-name'] || labels['batch.kubernetes.io/job-name']) {
    return { kind: 'Job', name: labels['batch.kubernetes.io/job-name'] ?? (labels['job-name'] as string) }
  }
  return undefined
}

/** Answers by pod name: every sample of a pod's series asks again (two regular expressions each). */
const byPodName = new Map<string, WorkloadRef | null>()
const MAX_POD_NAMES = 8192

/**
 * Infers the workload from a pod name alone, for sources with no labels (cAdvisor series, flows):
 * `<deployment>-<hash>-<suffix>` or `<statefulset>-<ordinal>`. Ambiguous names give undefined.
 * The answer for a name never changes, so it is remembered (bounded; the oldest names go first).
 */
export function inferWorkloadFromPodName(podName: string): WorkloadRef | undefined {
  const known = byPodName.get(podName)
  if (known !== undefined) return known ?? undefined
  // Shared by every record of the pod: frozen, so a change to one record's could not leak.
  const found = workloadFromPodName(podName)
  const inferred = found && Object.freeze(found)
  setBounded(byPodName, podName, inferred ?? null, MAX_POD_NAMES)
  return inferred
}

function workloadFromPodName(podName: string): WorkloadRef | undefined {
  const deployment = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/.exec(
    podName,
  )
  if (deployment) return { kind: 'Deployment', name: deployment[1] as string }
  const statefulSet = /^(.+)-(\d+)$/.exec(podName)
  if (statefulSet) return { kind: 'StatefulSet', name: statefulSet[1] as string }
  return undefined
}

/** The service a pod belongs to, by the labels conventionally naming an application. */
export function inferService(
  labels: Record<string, string>,
  workload: WorkloadRef | undefined,
): string | undefined {
  return labels['app.kubernetes.io/name'] ?? labels.app ?? labels['k8s-app'] ?? workload?.name
}
