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

export interface PodSpec {
  name: string
  uid: string
  namespace: string
  service: string
  /** The controller: a ReplicaSet for Deployment pods, the StatefulSet itself otherwise. */
  owner: { kind: string; name: string; uid: string }
  templateHash?: string
  node: string
  image: string
  createdTs: number
  restarts: number
  /** Restarting (not serving) or crash looping: the container is waiting. */
  waitingReason?: string
  lastTermination?: { reason: string; exitCode: number; ts: number }
}

export function podObject(spec: PodSpec): KubeObject {
  const labels: Record<string, string> = { app: spec.service, 'app.kubernetes.io/name': spec.service }
  if (spec.templateHash) labels['pod-template-hash'] = spec.templateHash
  const running = spec.waitingReason === undefined
  const startedTs = spec.lastTermination && running ? spec.lastTermination.ts + 1000 : spec.createdTs + 2000
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      creationTimestamp: iso(spec.createdTs),
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', controller: true, ...spec.owner }],
    },
    spec: { nodeName: spec.node, containers: [{ name: spec.service, image: spec.image }] },
    status: {
      phase: 'Running',
      startTime: iso(spec.createdTs),
      conditions: [{ type: 'Ready', status: running ? 'True' : 'False', lastTransitionTime: iso(startedTs) }],
      containerStatuses: [
        {
          name: spec.service,
          image: spec.image,
          ready: running,
          restartCount: spec.restarts,
          state: running
            ? { running: { startedAt: iso(startedTs) } }
            : { waiting: { reason: spec.waitingReason } },
          ...(spec.lastTermination && {
            lastState: {
              terminated: {
                reason: spec.lastTermination.reason,
                exitCode: spec.lastTermination.exitCode,
                finishedAt: iso(spec.lastTermination.ts),
              },
            },
          }),
        },
      ],
    },
  }
}

export function replicaSetObject(spec: {
  name: string
  uid: string
  namespace: string
  deployment: { name: string; uid: string }
}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      uid: spec.uid,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', controller: true, ...spec.deployment }],
    },
  }
}

/** The EndpointSlice the endpointslice controller keeps for a Service: its ready pods. */
export function endpointSliceObject(spec: {
  service: string
  namespace: string
  uid: string
  pods: string[]
}): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${spec.service}-slice`,
      namespace: spec.namespace,
      uid: spec.uid,
      labels: { 'kubernetes.io/service-name': spec.service },
    },
    endpoints: spec.pods.map((name) => ({
      conditions: { ready: true },
      targetRef: { kind: 'Pod', name, namespace: spec.namespace },
    })),
  }
}
