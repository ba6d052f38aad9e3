import {
  createInformer,
  getJson,
  type Informer,
  type InformerEvent,
  type KubeConfig,
  type KubeObject,
} from '../kube/index.js'
import type { Component, Logger, ObjectState, Registry } from '../core/index.js'
import { ClusterTopology } from './cluster-topology.js'
import { CollectorMemory } from './collector-memory.js'
import { nodeState, podState } from './object-state.js'
import { StateReporter } from './state-reporter.js'
import type { RawIntake } from './raw-intake.js'

/**
 * What becomes of a watched resource: `events` are Kubernetes Events; `changes` become resource
 * changes (rollouts, scaling, config); `states` become pod and node states; `index` feeds the
 * ownership and service topology only and is not reported.
 */
type Role = 'events' | 'changes' | 'states' | 'index'

interface WatchedResource {
  kind: string
  path: string
  role: Role
}

/** Core/v1 Events are the fallback when the cluster does not serve events.k8s.io/v1. */
const CORE_EVENTS = '/api/v1/events'
const NEW_EVENTS_GROUP = '/apis/events.k8s.io/v1'

/** What the collector watches, besides Events. deploy/kubernetes/collector-rbac.yaml grants exactly these. */
export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  { kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets', role: 'index' },
  { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices', role: 'index' },
  { kind: 'Deployment', path: '/apis/apps/v1/deployments', role: 'changes' },
  { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets', role: 'changes' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets', role: 'changes' },
  { kind: 'HorizontalPodAutoscaler', path: '/apis/autoscaling/v2/horizontalpodautoscalers', role: 'changes' },
  { kind: 'ConfigMap', path: '/api/v1/configmaps', role: 'changes' },
  { kind: 'Pod', path: '/api/v1/pods', role: 'states' },
  { kind: 'Node', path: '/api/v1/nodes', role: 'states' },
]

export interface KubeCollectorOptions {
  config: KubeConfig
  /** The cluster's name in Argus, stamped on pod and node states. */
  cluster: string
  intake: RawIntake
  logger: Logger
  metrics: Registry
  /**
   * Where each resource's handled resourceVersion and the last reported state of workloads are
   * kept, so a restart neither repeats nor skips, and a rollout made meanwhile is still a rollout.
   */
  checkpointFile: string
}

export interface KubeCollector extends Component {
  /** Resolves when every resource has been listed once. */
  readonly synced: Promise<void>
  /** The resources being watched, with the Events API chosen at start. */
  readonly watching: () => readonly WatchedResource[]
  /** Nodes whose Ready condition is True: the kubelets worth scraping. */
  readonly readyNodes: () => string[]
}

const podKey = (object: KubeObject): string =>
  `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`

/**
 * Watches the cluster and feeds the intake: Events, object changes (rollouts, scaling, config,
 * HPA decisions) and pod and node states with their owners and services. Index resources
 * (ReplicaSets, EndpointSlices) are listed before pods so the first pod states already know their
 * Deployment and services. Each resource's handled resourceVersion is saved after its events are
 * published, so a restarted collector resumes where it stopped.
 */
export function createKubeCollector(options: KubeCollectorOptions): KubeCollector {
  const logger = options.logger.child({ component: 'kube-collector' })
  const memory = new CollectorMemory(options.checkpointFile, logger)
  const topology = new ClusterTopology()
  const reporter = new StateReporter(options.intake)
  const informers = new Map<string, Informer>()
  let resources: WatchedResource[] = []
  let stopped = false
  let markSynced!: () => void
  const synced = new Promise<void>((resolve) => (markSynced = resolve))

  const context = (): { cluster: string; now: number } => ({ cluster: options.cluster, now: Date.now() })

  function podStateOf(pod: KubeObject, deleted: boolean): ObjectState | undefined {
    return podState(pod, topology.placementOf(pod), { ...context(), deleted })
  }

  async function handle(resource: WatchedResource, events: Array<InformerEvent<KubeObject>>): Promise<void> {
    switch (resource.role) {
      case 'events': {
        // Deletions of Event objects are their expiry (TTL), not news.
        const occurred = events.filter((e) => e.type !== 'DELETED').map((e) => e.object)
        if (occurred.length > 0) await options.intake.kubeEvents(occurred)
        break
      }
      case 'changes': {
        await options.intake.objectUpdates(
          events.map((e) => ({
            before: e.previous ?? memory.snapshotOf(e.object),
            after: e.type === 'DELETED' ? undefined : e.object,
            deleted: e.type === 'DELETED',
          })),
        )
        for (const e of events) memory.remember(e.object, e.type === 'DELETED')
        break
      }
      case 'states':
        await reporter.report(
          events.map((e) =>
            resource.kind === 'Pod'
              ? podStateOf(e.object, e.type === 'DELETED')
              : nodeState(e.object, { ...context(), deleted: e.type === 'DELETED' }),
          ),
        )
        break
      case 'index': {
        const changedPods: string[] = []
        for (const e of events) {
          const deleted = e.type === 'DELETED'
          if (resource.kind === 'ReplicaSet') topology.setReplicaSet(e.object, deleted)
          else changedPods.push(...topology.setEndpointSlice(e.object, deleted))
        }
        // A pod joining or leaving a service is a state change of the pod.
        const pods = informers.get('Pod')
        if (pods && changedPods.length > 0)
          await reporter.report(
            changedPods.map((key) => {
              const pod = pods.get(key)
              return pod ? podStateOf(pod, false) : undefined
            }),
          )
        // Index resources keep no checkpoint: nothing to save.
        return
      }
    }
    memory.saveSoon()
  }

  function informerFor(resource: WatchedResource): Informer {
    const informer = createInformer({
      config: options.config,
      path: resource.path,
      kind: resource.kind,
      logger,
      metrics: options.metrics,
      // Index resources are listed whole at every start: the topology lives in memory.
      handledThrough: resource.role === 'index' ? undefined : memory.checkpoint(resource.kind),
      ...(resource.kind === 'Pod' ? { keyOf: podKey } : {}),
      handle: (events) => handle(resource, events),
    })
    informers.set(resource.kind, informer)
    if (resource.role !== 'index') memory.track(resource.kind, () => informer.handledThrough)
    return informer
  }

  /** events.k8s.io/v1 carries more (series, reportingController, note); core/v1 is the fallback. */
  async function eventsPath(): Promise<string> {
    try {
      const group = await getJson<{ resources?: Array<{ name?: string; verbs?: string[] }> }>(
        options.config,
        NEW_EVENTS_GROUP,
      )
      if (group.resources?.some((r) => r.name === 'events' && r.verbs?.includes('watch')))
        return `${NEW_EVENTS_GROUP}/events`
    } catch (error) {
      logger.info({ err: error }, 'events.k8s.io/v1 not served; watching core/v1 Events')
    }
    return CORE_EVENTS
  }

  return {
    name: 'kube-collector',
    synced,
    watching: () => resources,
    readyNodes: () => {
      const nodes = informers.get('Node')
      if (!nodes) return []
      return [...nodes.objects()].flatMap((node) => {
        const state = nodeState(node, context())
        return state?.phase === 'Ready' ? [state.resource.name] : []
      })
    },
    async start() {
      resources = [{ kind: 'Event', path: await eventsPath(), role: 'events' }, ...WATCHED_RESOURCES]
      const indexes = resources.filter((r) => r.role === 'index').map(informerFor)
      const others = resources.filter((r) => r.role !== 'index').map(informerFor)
      for (const informer of indexes) await informer.start()
      // Pods wait for their owners and services to be known; the API may be down, so not in start().
      void Promise.all(indexes.map((i) => i.synced)).then(async () => {
        if (stopped) return
        for (const informer of others) await informer.start()
        await Promise.all(others.map((i) => i.synced))
        markSynced()
      })
      logger.info({ resources: resources.map((r) => `${r.kind} ${r.path}`) }, 'watching the cluster')
    },
    async stop() {
      stopped = true
      await Promise.all([...informers.values()].map((i) => i.stop()))
      memory.close()
    },
  }
}
