/**
 * Kubernetes objects shaped as the API server returns them (apps/v1, v1), so the simulator's
 * output goes through the same normalisers as a real watch.
 */
export type KubeObject = Record<string, unknown>

const iso = (ts: number): string => new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z')

export interface EventSpec {
  uid: string
  namespace: string
  involved: { kind: string; name: string; uid?: string }
  reason: string
  message: string
  type: 'Normal' | 'Warning'
  component: string
  host?: string
  ts: number
  count?: number
  firstTs?: number
}

export function eventObject(spec: EventSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${spec.involved.name}.${spec.uid.slice(0, 16).replaceAll('-', '')}`,
      namespace: spec.namespace,
      uid: spec.uid,
      resourceVersion: String(spec.ts % 1_000_000_000),
      creationTimestamp: iso(spec.firstTs ?? spec.ts),
    },
    involvedObject: {
      apiVersion: spec.involved.kind === 'Node' ? 'v1' : 'apps/v1',
      ...spec.involved,
      ...(spec.involved.kind !== 'Node' && { namespace: spec.namespace }),
    },
    reason: spec.reason,
    message: spec.message,
    source: { component: spec.component, ...(spec.host && { host: spec.host }) },
    firstTimestamp: iso(spec.firstTs ?? spec.ts),
    lastTimestamp: iso(spec.ts),
    count: spec.count ?? 1,
    type: spec.type,
    eventTime: null,
    reportingComponent: spec.component,
    reportingInstance: spec.host ?? '',
  }
}

export interface WorkloadSpec {
  kind: 'Deployment' | 'StatefulSet'
  name: string
  namespace: string
  uid: string
  replicas: number
  image: string
  revision: number
  /** Changes the pod template without changing the image (kubectl rollout restart). */
  restartedAt?: string
  createdTs: number
  manager: string
  managedTs: number
}

export function workloadObject(spec: WorkloadSpec): KubeObject {
  const labels = { app: spec.name, 'app.kubernetes.io/name': spec.name }
  return {
    apiVersion: 'apps/v1',
    kind: spec.kind,
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      generation: spec.revision,
      creationTimestamp: iso(spec.createdTs),
      labels,
      annotations:
        spec.kind === 'Deployment' ? { 'deployment.kubernetes.io/revision': String(spec.revision) } : {},
      managedFields: [
        { manager: spec.manager, operation: 'Update', apiVersion: 'apps/v1', time: iso(spec.managedTs) },
      ],
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { app: spec.name } },
      template: {
        metadata: {
          labels,
          ...(spec.restartedAt && { annotations: { 'kubectl.kubernetes.io/restartedAt': spec.restartedAt } }),
        },
        spec: {
          containers: [
            { name: spec.name, image: spec.image, resources: { limits: { cpu: '1', memory: '512Mi' } } },
          ],
        },
      },
    },
    status: { replicas: spec.replicas, readyReplicas: spec.replicas, observedGeneration: spec.revision },
  }
}

export function configMapObject(
  name: string,
  namespace: string,
  uid: string,
  data: Record<string, string>,
  ts: number,
  manager: string,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      uid,
      creationTimestamp: iso(ts),
      managedFields: [{ manager, operation: 'Update', apiVersion: 'v1', time: iso(ts) }],
    },
    data,
  }
}

export function networkPolicyObject(
  name: string,
  namespace: string,
  uid: string,
  target: string,
  ts: number,
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace,
      uid,
      creationTimestamp: iso(ts),
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: iso(ts) }],
    },
    spec: { podSelector: { matchLabels: { app: target } }, policyTypes: ['Ingress'], ingress: [] },
  }
}
