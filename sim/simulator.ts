import type { EntityRef } from '../core/index.js'
import { DEFAULT_TARGETS, type FaultKind, type GroundTruth } from './faults.js'
import {
  configMapObject,
  endpointSliceObject,
  eventObject,
  networkPolicyObject,
  podObject,
  replicaSetObject,
  workloadObject,
  type EventSpec,
  type KubeObject,
} from './kube-shapes.js'
import { createRandom, kubeSuffix, uid } from './random.js'
import { SHOP_NODES, SHOP_SERVICES, callOrder, type ServiceSpec } from './shop-topology.js'
import {
  LATENCY_BUCKETS,
  calicoFlowRecord,
  fluentRecord,
  nodeScrapeText,
  type PodSeries,
} from './telemetry-formats.js'

export interface SimulatorOptions {
  seed: number
  /** Simulated time of the first tick, epoch ms. */
  startTs: number
  /** Scrape and log interval (default 10 s). */
  stepMs?: number
  namespace?: string
  /** Frontend requests per second at the daily mean (default 40). */
  baseRps?: number
  /** Calico flush interval for flow records (default 30 s). */
  flowIntervalMs?: number
}

/** Everything the cluster emitted during one step, in the raw formats of the real sources. */
export interface SimTick {
  ts: number
  /** kubelet /metrics/cadvisor text, one per node. */
  scrapes: Array<{ node: string; text: string }>
  /** fluentd records with the kubernetes metadata block. */
  logs: Array<Record<string, unknown>>
  /** core/v1 Event objects. */
  events: KubeObject[]
  /** Object updates as a watch delivers them. */
  objectUpdates: Array<{ before?: KubeObject; after?: KubeObject; deleted?: boolean; observedAt: number }>
  /** Calico flow log records. */
  flows: Array<Record<string, unknown>>
  /** Every pod as a watch sees it now, and the pods gone since the last step (deleted). */
  pods: Array<{ object: KubeObject; deleted?: boolean }>
  /** ReplicaSets and EndpointSlices: who owns each pod and which service routes to it. */
  replicaSets: KubeObject[]
  endpointSlices: KubeObject[]
}

export interface ServiceStats {
  rps: number
  latencyMs: number
  errorRate: number
  cpuUtilisation: number
  readyPods: number
}

export interface Simulator {
  readonly now: number
  readonly groundTruth: readonly GroundTruth[]
  step(): SimTick
  /** Schedules a fault (default: from the next step, for 5 minutes) and returns its ground truth. */
  inject(fault: FaultKind, options?: { target?: string; startTs?: number; durationMs?: number }): GroundTruth
  serviceStats(): Map<string, ServiceStats>
}

interface Pod {
  name: string
  uid: string
  node: string
  createdTs: number
  restarts: number
  cpuSeconds: number
  memoryMiB: number
  rxBytes: number
  txBytes: number
  throttledPeriods: number
  requestsOk: number
  requestsError: number
  buckets: number[]
  latencySum: number
  /** Extra CPU demand from a runaway thread, millicores. */
  hogMillicores: number
  /** Not serving until this time (restarting). */
  downUntil: number
  crashLooping: boolean
  /** How the container's previous run ended, as the pod status reports it. */
  lastTermination?: { reason: string; exitCode: number; ts: number }
}

interface Service {
  spec: ServiceSpec
  uid: string
  revision: number
  hash: string
  image: string
  pods: Pod[]
  createdTs: number
  manager: string
  managedTs: number
  restartedAt?: string
  /** Memory growth per step from a leaking release, MiB. */
  leakMiBPerStep: number
}

interface ActiveFault {
  truth: GroundTruth
  target: string
  state: 'pending' | 'active' | 'ended'
  /** Fault-specific bookkeeping (the old image of a bad release, the hogging pod, ...). */
  memo: Record<string, string>
}

const HOUR = 3_600_000

export function createSimulator(options: SimulatorOptions): Simulator {
  const random = createRandom(options.seed)
  const stepMs = options.stepMs ?? 10_000
  const namespace = options.namespace ?? 'shop'
  const baseRps = options.baseRps ?? 40
  const flowIntervalMs = options.flowIntervalMs ?? 30_000
  const order = callOrder(SHOP_SERVICES)
  const callers = new Map<string, string[]>()
  for (const spec of SHOP_SERVICES)
    for (const c of spec.callees) callers.set(c.service, [...(callers.get(c.service) ?? []), spec.name])

  let now = options.startTs - stepMs
  let stepsTaken = 0
  let noise = 0
  let lastFlowTs = options.startTs - flowIntervalMs
  const faults: ActiveFault[] = []
  const config = new Map<string, Record<string, string>>()
  const stats = new Map<string, ServiceStats>()
  const deniedEdges = new Set<string>()
  const pressuredNodes = new Set<string>()
  const flowTotals = new Map<string, { requests: number; denied: number }>()

  // Objects were created two days before the simulation starts (inside the default retention).
  const services = new Map<string, Service>()
  for (const spec of SHOP_SERVICES) {
    const service: Service = {
      spec,
      uid: uid(random),
      revision: 1,
      hash: kubeSuffix(random, 10),
      image: spec.image,
      pods: [],
      createdTs: options.startTs - 2 * 24 * HOUR,
      manager: 'argocd-controller',
      managedTs: options.startTs - 2 * 24 * HOUR,
      leakMiBPerStep: 0,
    }
    services.set(spec.name, service)
    config.set(spec.name, { POOL_SIZE: '20', LOG_LEVEL: 'info', UPSTREAM_TIMEOUT_MS: '1000' })
  }
  let nodeCursor = 0
  // Pods exist from the start, so faults injected before the first step can name them.
  for (const service of services.values())
    service.pods = Array.from({ length: service.spec.replicas }, (_, i) =>
      newPod(service, i, options.startTs),
    )

  // ----- naming and placement -------------------------------------------------------------------

  function podName(service: Service, ordinal: number): string {
    return service.spec.kind === 'StatefulSet'
      ? `${service.spec.name}-${ordinal}`
      : `${service.spec.name}-${service.hash}-${kubeSuffix(random, 5)}`
  }

  function schedulableNode(): string {
    for (let i = 0; i < SHOP_NODES.length; i++) {
      const node = SHOP_NODES[(nodeCursor + i) % SHOP_NODES.length] as string
      if (!pressuredNodes.has(node)) {
        nodeCursor = (nodeCursor + i + 1) % SHOP_NODES.length
        return node
      }
    }
    return SHOP_NODES[0] as string
  }

  function newPod(service: Service, ordinal: number, ts: number): Pod {
    const podUid = uid(random)
    return {
      name: podName(service, ordinal),
      uid: podUid,
      node: schedulableNode(),
      createdTs: ts,
      restarts: 0,
      cpuSeconds: 0,
      memoryMiB: service.spec.memoryBaseMiB,
      rxBytes: 0,
      txBytes: 0,
      throttledPeriods: 0,
      // Counters are exported rounded: each pod starts at its own fraction so replicas do not
      // tick in lockstep (every replica's first error in the same step is no real cluster's data).
      requestsOk: phaseOf(podUid, 0),
      requestsError: phaseOf(podUid, 8),
      buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
      latencySum: 0,
      hogMillicores: 0,
      downUntil: 0,
      crashLooping: false,
    }
  }

  const podLabels = (service: Service): Record<string, string> =>
    service.spec.kind === 'Deployment'
      ? {
          app: service.spec.name,
          'app.kubernetes.io/name': service.spec.name,
          'pod-template-hash': service.hash,
        }
      : {
          app: service.spec.name,
          'app.kubernetes.io/name': service.spec.name,
          'statefulset.kubernetes.io/pod-name': '',
        }

  // ----- emission helpers -----------------------------------------------------------------------

  function event(tick: SimTick, spec: Omit<EventSpec, 'uid' | 'namespace' | 'ts'> & { ts?: number }): void {
    tick.events.push(eventObject({ ...spec, uid: uid(random), namespace, ts: spec.ts ?? tick.ts }))
  }

  /** The kubelet's memory condition events on a node, as `kubectl describe node` lists them. */
  function nodeCondition(
    tick: SimTick,
    node: string,
    status: 'NodeHasInsufficientMemory' | 'NodeHasSufficientMemory',
  ): void {
    event(tick, {
      involved: { kind: 'Node', name: node, uid: node },
      reason: status,
      message: `Node ${node} status is now: ${status}`,
      type: status === 'NodeHasInsufficientMemory' ? 'Warning' : 'Normal',
      component: 'kubelet',
      host: node,
    })
  }

  function log(
    tick: SimTick,
    service: Service,
    pod: Pod,
    line: string,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): void {
    const labels = podLabels(service)
    if (labels['statefulset.kubernetes.io/pod-name'] === '')
      labels['statefulset.kubernetes.io/pod-name'] = pod.name
    // Spread lines over the step so they do not all share one timestamp.
    const ts = tick.ts - stepMs + 1 + random.int(stepMs)
    tick.logs.push(
      fluentRecord(
        {
          namespace,
          pod: pod.name,
          podUid: pod.uid,
          container: service.spec.name,
          image: service.image,
          node: pod.node,
          labels,
        },
        ts,
        line,
        stream,
      ),
    )
  }

  /** The pods, their ReplicaSets and the services' EndpointSlices as the API server holds them now. */
  let lastPods = new Map<string, KubeObject>()
  function describePods(tick: SimTick): void {
    const current = new Map<string, KubeObject>()
    for (const service of services.values()) {
      const spec = service.spec
      const replicaSet = { name: `${spec.name}-${service.hash}`, uid: `rs-${service.uid}-${service.hash}` }
      if (spec.kind === 'Deployment')
        tick.replicaSets.push(
          replicaSetObject({ ...replicaSet, namespace, deployment: { name: spec.name, uid: service.uid } }),
        )
      const ready: string[] = []
      for (const pod of service.pods) {
        const up = !pod.crashLooping && pod.downUntil <= tick.ts
        if (up) ready.push(pod.name)
        const object = podObject({
          name: pod.name,
          uid: pod.uid,
          namespace,
          service: spec.name,
          owner:
            spec.kind === 'Deployment'
              ? { kind: 'ReplicaSet', ...replicaSet }
              : { kind: spec.kind, name: spec.name, uid: service.uid },
          ...(spec.kind === 'Deployment' && { templateHash: service.hash }),
          node: pod.node,
          image: service.image,
          createdTs: pod.createdTs,
          restarts: pod.restarts,
          ...(!up && { waitingReason: pod.crashLooping ? 'CrashLoopBackOff' : 'ContainerCreating' }),
          ...(pod.lastTermination && { lastTermination: pod.lastTermination }),
        })
        current.set(pod.uid, object)
        tick.pods.push({ object })
      }
      tick.endpointSlices.push(
        endpointSliceObject({ service: spec.name, namespace, uid: `slice-${service.uid}`, pods: ready }),
      )
    }
    for (const [uid, object] of lastPods) if (!current.has(uid)) tick.pods.push({ object, deleted: true })
    lastPods = current
  }

  function workload(service: Service): KubeObject {
    return workloadObject({
      kind: service.spec.kind,
      name: service.spec.name,
      namespace,
      uid: service.uid,
      replicas: service.spec.replicas,
      image: service.image,
      revision: service.revision,
      ...(service.restartedAt && { restartedAt: service.restartedAt }),
      createdTs: service.createdTs,
      manager: service.manager,
      managedTs: service.managedTs,
    })
  }

  function configMap(name: string, ts: number, manager: string): KubeObject {
    return configMapObject(
      `${name}-config`,
      namespace,
      `cm-${services.get(name)?.uid ?? name}`,
      config.get(name) ?? {},
      ts,
      manager,
    )
  }

  function startPod(tick: SimTick, service: Service, pod: Pod): void {
    const involved = { kind: 'Pod', name: pod.name, uid: pod.uid }
    event(tick, {
      involved,
      reason: 'Scheduled',
      message: `Successfully assigned ${namespace}/${pod.name} to ${pod.node}`,
      type: 'Normal',
      component: 'default-scheduler',
    })
    event(tick, {
      involved,
      reason: 'Pulled',
      message: `Container image "${service.image}" already present on machine`,
      type: 'Normal',
      component: 'kubelet',
      host: pod.node,
    })
    event(tick, {
      involved,
      reason: 'Created',
      message: `Created container ${service.spec.name}`,
      type: 'Normal',
      component: 'kubelet',
      host: pod.node,
    })
    event(tick, {
      involved,
      reason: 'Started',
      message: `Started container ${service.spec.name}`,
      type: 'Normal',
      component: 'kubelet',
      host: pod.node,
    })
    log(
      tick,
      service,
      pod,
      `INFO starting ${service.spec.name} ${service.image.split(':')[1] ?? ''} on port ${service.spec.port}`,
    )
  }

  /** Replaces every pod of a service with new ones (a completed rolling update). */
  function replacePods(tick: SimTick, service: Service, reason: string): void {
    const oldHash = service.pods[0]?.name.split('-').slice(-2, -1)[0]
    for (const pod of service.pods) {
      event(tick, {
        involved: { kind: 'Pod', name: pod.name, uid: pod.uid },
        reason: 'Killing',
        message: `Stopping container ${service.spec.name}`,
        type: 'Normal',
        component: 'kubelet',
        host: pod.node,
      })
    }
    service.pods = Array.from({ length: service.spec.replicas }, (_, i) => newPod(service, i, tick.ts))
    if (service.spec.kind === 'Deployment') {
      const involved = { kind: 'Deployment', name: service.spec.name, uid: service.uid }
      event(tick, {
        involved,
        reason: 'ScalingReplicaSet',
        message: `Scaled up replica set ${service.spec.name}-${service.hash} to ${service.spec.replicas}`,
        type: 'Normal',
        component: 'deployment-controller',
      })
      if (oldHash)
        event(tick, {
          involved,
          reason: 'ScalingReplicaSet',
          message: `Scaled down replica set ${service.spec.name}-${oldHash} to 0 from ${service.spec.replicas} (${reason})`,
          type: 'Normal',
          component: 'deployment-controller',
        })
    }
    for (const pod of service.pods) startPod(tick, service, pod)
  }

  /** Applies a change to a workload's spec and records it as a watch would see it. */
  function updateWorkload(tick: SimTick, service: Service, manager: string, change: () => void): void {
    const before = workload(service)
    change()
    service.revision++
    service.manager = manager
    service.managedTs = tick.ts
    tick.objectUpdates.push({ before, after: workload(service), observedAt: tick.ts })
  }

  function updateConfig(tick: SimTick, name: string, data: Record<string, string>): void {
    const before = configMap(name, tick.ts, 'kubectl-edit')
    config.set(name, { ...config.get(name), ...data })
    tick.objectUpdates.push({ before, after: configMap(name, tick.ts, 'kubectl-edit'), observedAt: tick.ts })
  }

  // ----- faults ---------------------------------------------------------------------------------

  function transitiveCallers(name: string): string[] {
    const seen = new Set<string>()
    const walk = (n: string): void => {
      for (const caller of callers.get(n) ?? []) {
        if (!seen.has(caller)) {
          seen.add(caller)
          walk(caller)
        }
      }
    }
    walk(name)
    return [...seen]
  }

  function inject(
    kind: FaultKind,
    injectOptions: { target?: string; startTs?: number; durationMs?: number } = {},
  ): GroundTruth {
    const target = injectOptions.target ?? DEFAULT_TARGETS[kind]
    const startTs = injectOptions.startTs ?? now + stepMs
    const endTs = startTs + (injectOptions.durationMs ?? 5 * 60_000)
    const entity = (k: string, name: string): EntityRef => ({ kind: k, name, namespace, cluster: '' })
    let rootCause: EntityRef
    let affected: string[]
    let description: string
    const service = services.get(target)
    const serviceKind = service?.spec.kind ?? 'Deployment'
    switch (kind) {
      case 'node_pressure':
        if (!SHOP_NODES.includes(target)) throw new Error(`unknown node ${target}`)
        rootCause = { kind: 'Node', name: target }
        affected = [
          ...new Set(
            [...services.values()]
              .filter((s) => s.pods.some((p) => p.node === target))
              .map((s) => s.spec.name),
          ),
        ]
        description = `memory pressure on ${target}; the kubelet evicts its pods`
        break
      case 'traffic_surge':
        rootCause = entity('Service', target)
        affected = [
          target,
          ...(SHOP_SERVICES.find((s) => s.name === target)?.callees.map((c) => c.service) ?? []),
        ]
        description = `inbound traffic to ${target} triples; the current replicas saturate`
        break
      case 'network_policy_deny':
        rootCause = entity('NetworkPolicy', `deny-${target}-ingress`)
        affected = [target, ...transitiveCallers(target)]
        description = `a NetworkPolicy denies all ingress to ${target}; its callers time out`
        break
      case 'crashloop_after_config':
        rootCause = entity('ConfigMap', `${target}-config`)
        affected = [target, ...transitiveCallers(target)]
        description = `a config change (POOL_SIZE=0) makes the new ${target} pod crash-loop and stalls its rollout`
        break
      case 'cpu_hog':
        rootCause = entity('Pod', service?.pods[0]?.name ?? target)
        affected = [target, ...transitiveCallers(target)]
        description = `a runaway thread in one ${target} pod uses all its CPU`
        break
      default:
        rootCause = entity(serviceKind, target)
        affected = [target, ...transitiveCallers(target)]
        description = {
          memory_leak: `${target} leaks memory until its pods are OOMKilled`,
          bad_release: `a new ${target} release returns errors and is slower`,
          slow_database: `${target} queries take ten times longer`,
        }[kind]
    }
    if (kind !== 'node_pressure' && !service) throw new Error(`unknown service ${target}`)
    delete rootCause.cluster
    const truth: GroundTruth = {
      fault: kind,
      rootCause,
      affectedServices: affected,
      startTs,
      endTs,
      description,
    }
    faults.push({ truth, target, state: 'pending', memo: {} })
    return truth
  }

  function startFault(tick: SimTick, fault: ActiveFault): void {
    const service = services.get(fault.target)
    switch (fault.truth.fault) {
      case 'cpu_hog': {
        const pod = service?.pods.find((p) => p.name === fault.truth.rootCause.name) ?? service?.pods[0]
        if (pod) {
          pod.hogMillicores = (service as Service).spec.cpuLimit * 1.5
          fault.memo.pod = pod.name
        }
        break
      }
      case 'memory_leak':
        if (service)
          service.leakMiBPerStep =
            ((service.spec.memoryLimitMiB - service.spec.memoryBaseMiB) / (3 * 60_000)) * stepMs
        break
      case 'bad_release':
        if (service) {
          fault.memo.image = service.image
          fault.memo.hash = service.hash
          updateWorkload(tick, service, 'argocd-controller', () => {
            const [repo, version = '1.0.0'] = service.image.split(':')
            const parts = version.split('.').map(Number)
            service.image = `${repo}:${parts[0]}.${(parts[1] ?? 0) + 1}.0`
            service.hash = kubeSuffix(random, 10)
          })
          replacePods(tick, service, 'rollout')
        }
        break
      case 'slow_database':
        break
      case 'network_policy_deny':
        for (const caller of callers.get(fault.target) ?? []) deniedEdges.add(`${caller}>${fault.target}`)
        tick.objectUpdates.push({
          after: networkPolicyObject(
            fault.truth.rootCause.name,
            namespace,
            uid(random),
            fault.target,
            tick.ts,
          ),
          observedAt: tick.ts,
        })
        break
      case 'node_pressure':
        pressuredNodes.add(fault.target)
        nodeCondition(tick, fault.target, 'NodeHasInsufficientMemory')
        break
      case 'crashloop_after_config':
        if (service) {
          updateConfig(tick, fault.target, { POOL_SIZE: '0' })
          updateWorkload(tick, service, 'kubectl-rollout', () => {
            service.restartedAt = new Date(tick.ts).toISOString()
            fault.memo.hash = service.hash
            service.hash = kubeSuffix(random, 10)
          })
          const surge = newPod(service, service.pods.length, tick.ts)
          surge.crashLooping = true
          service.pods.push(surge)
          startPod(tick, service, surge)
          event(tick, {
            involved: { kind: 'Deployment', name: service.spec.name, uid: service.uid },
            reason: 'ScalingReplicaSet',
            message: `Scaled up replica set ${service.spec.name}-${service.hash} to 1`,
            type: 'Normal',
            component: 'deployment-controller',
          })
        }
        break
      case 'traffic_surge':
        break
    }
  }

  function endFault(tick: SimTick, fault: ActiveFault): void {
    const service = services.get(fault.target)
    switch (fault.truth.fault) {
      case 'cpu_hog':
        for (const pod of service?.pods ?? []) pod.hogMillicores = 0
        break
      case 'memory_leak':
        if (service) service.leakMiBPerStep = 0
        break
      case 'bad_release':
        if (service && fault.memo.image) {
          updateWorkload(tick, service, 'argocd-controller', () => {
            service.image = fault.memo.image as string
            service.hash = fault.memo.hash as string
          })
          replacePods(tick, service, 'rollback')
        }
        break
      case 'network_policy_deny':
        for (const caller of callers.get(fault.target) ?? []) deniedEdges.delete(`${caller}>${fault.target}`)
        tick.objectUpdates.push({
          before: networkPolicyObject(fault.truth.rootCause.name, namespace, '', fault.target, tick.ts),
          deleted: true,
          observedAt: tick.ts,
        })
        break
      case 'node_pressure':
        pressuredNodes.delete(fault.target)
        nodeCondition(tick, fault.target, 'NodeHasSufficientMemory')
        break
      case 'crashloop_after_config':
        if (service) {
          updateConfig(tick, fault.target, { POOL_SIZE: '20' })
          service.pods = service.pods.filter((p) => !p.crashLooping)
          replacePods(tick, service, 'rollout')
        }
        break
      default:
        break
    }
  }

  const activeTarget = (kind: FaultKind, target: string): boolean =>
    faults.some((f) => f.state === 'active' && f.truth.fault === kind && f.target === target)

  // ----- the model ------------------------------------------------------------------------------

  /** Daily traffic shape: quiet at night, peaks in the early evening, with slow autocorrelated noise. */
  function frontendRps(ts: number): number {
    const hour = (ts / HOUR) % 24
    const daily = 1 + 0.5 * Math.sin((2 * Math.PI * (hour - 12)) / 24)
    noise = 0.9 * noise + 0.04 * random.normal()
    return baseRps * daily * (1 + noise)
  }

  function step(): SimTick {
    now += stepMs
    stepsTaken++
    const ts = now
    const tick: SimTick = {
      ts,
      scrapes: [],
      logs: [],
      events: [],
      objectUpdates: [],
      flows: [],
      pods: [],
      replicaSets: [],
      endpointSlices: [],
    }
    const seconds = stepMs / 1000

    if (stepsTaken === 1) {
      // The first step shows the cluster as a new watch lists it: every object, every pod starting.
      for (const service of services.values()) {
        tick.objectUpdates.push({ after: workload(service), observedAt: ts })
        tick.objectUpdates.push({
          after: configMap(service.spec.name, service.createdTs, 'argocd-controller'),
          observedAt: ts,
        })
        for (const pod of service.pods) startPod(tick, service, pod)
      }
    }

    for (const fault of faults) {
      if (fault.state === 'pending' && ts >= fault.truth.startTs) {
        fault.state = 'active'
        startFault(tick, fault)
      } else if (fault.state === 'active' && ts >= fault.truth.endTs) {
        fault.state = 'ended'
        endFault(tick, fault)
      }
    }

    // Node pressure: the kubelet evicts one pod per step and it is rescheduled elsewhere.
    for (const node of pressuredNodes) {
      const victim = [...services.values()]
        .flatMap((s) => s.pods.map((p) => [s, p] as const))
        .find(([s, p]) => p.node === node && s.spec.kind === 'Deployment')
      if (victim) {
        const [service, pod] = victim
        event(tick, {
          involved: { kind: 'Pod', name: pod.name, uid: pod.uid },
          reason: 'Evicted',
          message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki.',
          type: 'Warning',
          component: 'kubelet',
          host: node,
        })
        log(tick, service, pod, 'INFO received SIGTERM, shutting down gracefully')
        const replacement = newPod(service, 0, ts)
        replacement.downUntil = ts + stepMs
        service.pods = service.pods.map((p) => (p === pod ? replacement : p))
        startPod(tick, service, replacement)
      }
    }

    // Requests per second per service, top-down; denied edges carry no traffic.
    const rps = new Map<string, number>()
    const surge = faults.find((f) => f.state === 'active' && f.truth.fault === 'traffic_surge')
    for (const spec of order) {
      let own = rps.get(spec.name) ?? 0
      if (spec.name === 'frontend') own = frontendRps(ts)
      if (surge && surge.target === spec.name) own *= 3
      rps.set(spec.name, own)
      for (const callee of spec.callees) {
        if (deniedEdges.has(`${spec.name}>${callee.service}`)) continue
        rps.set(callee.service, (rps.get(callee.service) ?? 0) + own * callee.callsPerRequest)
      }
    }

    // Latency and errors bottom-up: a slow or failing callee makes its callers slow or failing.
    const latency = new Map<string, number>()
    const errors = new Map<string, number>()
    const podLatency = new Map<Pod, number>()
    const ownLatencyOf = new Map<string, number>()
    const downstreamOf = new Map<string, number>()
    for (const spec of [...order].reverse()) {
      const service = services.get(spec.name) as Service
      const serving = service.pods.filter((p) => !p.crashLooping && p.downUntil <= ts)
      const perPod = (rps.get(spec.name) ?? 0) / Math.max(1, serving.length)
      let downstream = 0
      let downstreamErrors = 0
      for (const callee of spec.callees) {
        if (deniedEdges.has(`${spec.name}>${callee.service}`)) {
          // Dropped packets: the caller waits for its upstream timeout, then fails.
          downstream += callee.callsPerRequest * 1000
          downstreamErrors += Math.min(1, callee.callsPerRequest)
          continue
        }
        downstream += callee.callsPerRequest * (latency.get(callee.service) ?? 0)
        downstreamErrors += callee.callsPerRequest * (errors.get(callee.service) ?? 0) * 0.6
      }
      let selfSum = 0
      let utilisationSum = 0
      for (const pod of serving) {
        const demand = perPod * spec.cpuPerRequest + 20 + pod.hogMillicores
        const utilisation = demand / spec.cpuLimit
        utilisationSum += utilisation
        let self = spec.selfLatencyMs / (1 - Math.min(utilisation, 0.95))
        if (activeTarget('slow_database', spec.name)) self *= 10
        if (activeTarget('bad_release', spec.name)) self += 120
        podLatency.set(pod, self)
        selfSum += self
      }
      const ownLatency = serving.length > 0 ? selfSum / serving.length : spec.selfLatencyMs * 20
      const utilisation = serving.length > 0 ? utilisationSum / serving.length : 1
      let ownErrors = spec.baseErrorRate + Math.max(0, Math.min(0.5, utilisation - 1))
      if (activeTarget('bad_release', spec.name)) ownErrors += 0.2
      if (serving.length === 0) ownErrors = 1
      ownLatencyOf.set(spec.name, ownLatency)
      downstreamOf.set(spec.name, downstream)
      latency.set(spec.name, ownLatency + downstream)
      errors.set(spec.name, Math.min(1, ownErrors + downstreamErrors))
      stats.set(spec.name, {
        rps: rps.get(spec.name) ?? 0,
        latencyMs: ownLatency + downstream,
        errorRate: Math.min(1, ownErrors + downstreamErrors),
        cpuUtilisation: utilisation,
        readyPods: serving.length,
      })
    }

    // Per-pod counters, logs, and the incidents of life (OOM kills, crash loops).
    const byNode = new Map<string, PodSeries[]>()
    for (const service of services.values()) {
      const spec = service.spec
      const serving = service.pods.filter((p) => !p.crashLooping && p.downUntil <= ts)
      const perPod = (rps.get(spec.name) ?? 0) / Math.max(1, serving.length)
      const errorRate = errors.get(spec.name) ?? 0
      for (const pod of service.pods) {
        const up = !pod.crashLooping && pod.downUntil <= ts
        const requests = up ? perPod * seconds : 0
        const failed = requests * errorRate
        // This pod's own time plus what its calls downstream take.
        const meanMs =
          (podLatency.get(pod) ?? ownLatencyOf.get(spec.name) ?? spec.selfLatencyMs) +
          (downstreamOf.get(spec.name) ?? 0)
        pod.requestsOk += requests - failed
        pod.requestsError += failed
        // The sum grows by the requests the exported (rounded) count grows by, as a real histogram's
        // does: otherwise a quiet pod's mean latency jumps with every rounding step.
        const countedBefore = Math.round(pod.buckets[LATENCY_BUCKETS.length] ?? 0)
        const countedAfter = Math.round((pod.buckets[LATENCY_BUCKETS.length] ?? 0) + requests)
        pod.latencySum += ((countedAfter - countedBefore) * meanMs) / 1000
        LATENCY_BUCKETS.forEach(
          (le, i) =>
            (pod.buckets[i] =
              (pod.buckets[i] ?? 0) + requests * (1 - Math.exp(-(le * 1000) / Math.max(meanMs, 0.1)))),
        )
        pod.buckets[LATENCY_BUCKETS.length] = (pod.buckets[LATENCY_BUCKETS.length] ?? 0) + requests
        const demand = up ? perPod * spec.cpuPerRequest + 20 + pod.hogMillicores : 5
        const used = Math.min(demand, spec.cpuLimit)
        pod.cpuSeconds += (used / 1000) * seconds * (1 + 0.03 * random.normal())
        if (demand > spec.cpuLimit)
          pod.throttledPeriods += Math.round(seconds * 10 * Math.min(1, demand / spec.cpuLimit - 1 + 0.2))
        pod.rxBytes += requests * spec.requestBytes
        pod.txBytes += requests * spec.responseBytes
        // Memory follows load back to its baseline, unless a leaking release keeps adding to it.
        if (service.leakMiBPerStep > 0) pod.memoryMiB += service.leakMiBPerStep + random.normal()
        else pod.memoryMiB += 0.1 * (spec.memoryBaseMiB + 0.2 * perPod - pod.memoryMiB) + random.normal()

        if (pod.memoryMiB >= spec.memoryLimitMiB) {
          pod.restarts++
          pod.memoryMiB = spec.memoryBaseMiB
          pod.downUntil = ts + stepMs
          pod.lastTermination = { reason: 'OOMKilled', exitCode: 137, ts }
          event(tick, {
            involved: { kind: 'Node', name: pod.node, uid: pod.node },
            reason: 'OOMKilling',
            message: `Memory cgroup out of memory: Killed process ${1000 + random.int(30000)} (${spec.name}) total-vm:${spec.memoryLimitMiB * 1024}kB, anon-rss:${spec.memoryLimitMiB * 1000}kB`,
            type: 'Warning',
            component: 'kernel-monitor',
            host: pod.node,
          })
          event(tick, {
            involved: { kind: 'Pod', name: pod.name, uid: pod.uid },
            reason: 'BackOff',
            message: `Back-off restarting failed container ${spec.name} in pod ${pod.name}_${namespace}(${pod.uid}) (last state: Terminated, reason: OOMKilled, exit code 137)`,
            type: 'Warning',
            component: 'kubelet',
            host: pod.node,
          })
          log(
            tick,
            service,
            pod,
            `INFO starting ${spec.name} ${service.image.split(':')[1] ?? ''} on port ${spec.port}`,
          )
        } else if (service.leakMiBPerStep > 0 && pod.memoryMiB > spec.memoryLimitMiB * 0.85) {
          log(
            tick,
            service,
            pod,
            `WARN heap usage at ${Math.round((pod.memoryMiB / spec.memoryLimitMiB) * 100)}% of limit, GC cannot reclaim`,
            'stderr',
          )
        }
        if (pod.crashLooping) {
          pod.restarts++
          pod.lastTermination = { reason: 'Error', exitCode: 1, ts }
          log(
            tick,
            service,
            pod,
            `FATAL invalid configuration: POOL_SIZE must be greater than 0 (got ${config.get(spec.name)?.POOL_SIZE ?? '?'})`,
            'stderr',
          )
          event(tick, {
            involved: { kind: 'Pod', name: pod.name, uid: pod.uid },
            reason: 'BackOff',
            message: `Back-off restarting failed container ${spec.name} in pod ${pod.name}_${namespace}(${pod.uid})`,
            type: 'Warning',
            component: 'kubelet',
            host: pod.node,
            count: pod.restarts,
          })
        }

        if (up) emitRequestLogs(tick, service, pod, requests, failed, meanMs)
        const series: PodSeries = {
          namespace,
          pod: pod.name,
          container: spec.name,
          image: service.image,
          service: spec.name,
          cpuSecondsTotal: pod.cpuSeconds,
          memoryWorkingSetBytes: pod.memoryMiB * 1024 * 1024,
          memoryLimitBytes: spec.memoryLimitMiB * 1024 * 1024,
          rxBytesTotal: pod.rxBytes,
          txBytesTotal: pod.txBytes,
          throttledPeriodsTotal: pod.throttledPeriods,
          restarts: pod.restarts,
          requestsOk: pod.requestsOk,
          requestsError: pod.requestsError,
          latencyBuckets: pod.buckets,
          latencySumSeconds: pod.latencySum,
        }
        byNode.set(pod.node, [...(byNode.get(pod.node) ?? []), series])
      }
    }
    for (const node of SHOP_NODES)
      tick.scrapes.push({ node, text: nodeScrapeText(byNode.get(node) ?? [], ts) })

    // Calico flushes aggregated flows on its own interval.
    for (const spec of SHOP_SERVICES) {
      const own = rps.get(spec.name) ?? 0
      for (const callee of spec.callees) {
        const key = `${spec.name}>${callee.service}`
        const totals = flowTotals.get(key) ?? { requests: 0, denied: 0 }
        if (deniedEdges.has(key)) totals.denied += own * callee.callsPerRequest * seconds
        else totals.requests += own * callee.callsPerRequest * seconds
        flowTotals.set(key, totals)
      }
    }
    if (ts - lastFlowTs >= flowIntervalMs) {
      for (const [key, totals] of flowTotals) {
        const [from, to] = key.split('>') as [string, string]
        const source = services.get(from) as Service
        const dest = services.get(to) as Service
        const aggregated = (s: Service): string =>
          s.spec.kind === 'Deployment' ? `${s.spec.name}-${s.hash}-*` : `${s.spec.name}-*`
        const base = {
          startTs: lastFlowTs,
          endTs: ts,
          namespace,
          source: { aggregated: aggregated(source), app: from },
          dest: { aggregated: aggregated(dest), app: to, service: to, port: dest.spec.port },
          host: source.pods[0]?.node ?? 'node-1',
        }
        // Connections are pooled: one flow carries many requests.
        if (totals.requests > 0) {
          tick.flows.push(
            calicoFlowRecord({
              ...base,
              action: 'allow',
              policy: `0|__PROFILE__|__PROFILE__.kns.${namespace}|allow|0`,
              bytesOut: totals.requests * dest.spec.requestBytes,
              bytesIn: totals.requests * dest.spec.responseBytes,
              flows: Math.max(1, Math.round(totals.requests / 50)),
            }),
          )
        }
        if (totals.denied > 0) {
          tick.flows.push(
            calicoFlowRecord({
              ...base,
              action: 'deny',
              policy: `0|default|${namespace}/deny-${to}-ingress|deny|0`,
              bytesOut: totals.denied * 60,
              bytesIn: 0,
              flows: Math.max(1, Math.round(totals.denied / 5)),
            }),
          )
        }
      }
      flowTotals.clear()
      lastFlowTs = ts
    }
    describePods(tick)
    return tick
  }

  /** A sample of access lines, plus error lines in proportion to failures, with fault-specific text. */
  function emitRequestLogs(
    tick: SimTick,
    service: Service,
    pod: Pod,
    requests: number,
    failed: number,
    meanMs: number,
  ): void {
    const spec = service.spec
    const accessLines = Math.min(2, Math.round(requests))
    for (let i = 0; i < accessLines; i++) {
      const ms = Math.round(-Math.log(1 - random.next()) * meanMs)
      log(
        tick,
        service,
        pod,
        `INFO ${random.pick(['GET', 'GET', 'POST'])} /api/${spec.name}/${random.int(900) + 100} 200 ${ms}ms`,
      )
    }
    const errorLines = Math.min(8, Math.round(failed * 0.05) + (failed >= 1 ? 1 : 0))
    for (let i = 0; i < errorLines; i++) log(tick, service, pod, errorLine(service), 'stderr')
    if (activeTarget('slow_database', spec.name) && random.next() < 0.8) {
      log(
        tick,
        service,
        pod,
        `LOG:  duration: ${(spec.selfLatencyMs * 10 * (1 + random.next())).toFixed(3)} ms  statement: SELECT * FROM products WHERE category_id = $1 ORDER BY price`,
      )
    }
    const hogging = pod.hogMillicores > 0
    if (hogging)
      log(
        tick,
        service,
        pod,
        `WARN event loop blocked for ${400 + random.int(800)}ms; worker thread busy`,
        'stderr',
      )
    if ((stats.get(spec.name)?.cpuUtilisation ?? 0) > 1 && !hogging && random.next() < 0.5) {
      log(tick, service, pod, `WARN request queue depth ${100 + random.int(900)}, shedding load`, 'stderr')
    }
  }

  function errorLine(service: Service): string {
    const spec = service.spec
    if (activeTarget('bad_release', spec.name)) {
      return `ERROR java.lang.NullPointerException: Cannot invoke "Money.getUnits()" because "price" is null at PriceFormatter.format(PriceFormatter.java:${40 + random.int(5)})`
    }
    const denied = spec.callees.find((c) => deniedEdges.has(`${spec.name}>${c.service}`))
    if (denied)
      return `ERROR dial tcp ${denied.service}.${namespace}.svc.cluster.local:${services.get(denied.service)?.spec.port ?? 80}: i/o timeout`
    const failing = spec.callees.find((c) => (stats.get(c.service)?.errorRate ?? 0) > 0.05)
    if (failing)
      return `ERROR request to ${failing.service} failed: upstream returned 500 Internal Server Error`
    const slow = spec.callees.find((c) => (stats.get(c.service)?.latencyMs ?? 0) > 500)
    if (slow) return `ERROR context deadline exceeded calling ${slow.service} after 1000ms`
    if ((stats.get(spec.name)?.cpuUtilisation ?? 0) > 1)
      return 'ERROR 503 Service Unavailable: too many requests in flight'
    return `ERROR unexpected error handling request id=${kubeSuffix(random, 8)}: connection reset by peer`
  }

  return {
    get now() {
      return now
    },
    get groundTruth() {
      return faults.map((f) => f.truth)
    },
    step,
    inject,
    serviceStats: () => new Map(stats),
  }
}

/** A fraction in [0, 1) read from a pod's uid: a per-pod phase that draws nothing from the seed. */
function phaseOf(podUid: string, at: number): number {
  return parseInt(podUid.replace(/-/g, '').slice(at, at + 6), 16) / 0x1000000
}
