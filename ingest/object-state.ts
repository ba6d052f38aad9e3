import type { ObjectState, WorkloadRef } from '../core/index.js'
import { isJsonObject, numberAt, objectAt, stringAt, stringMap, type JsonObject } from './json-object.js'
import { parseTimestamp } from './fluent-record.js'
import { inferService } from './pod-workload.js'

type ContainerState = ObjectState['containers'][number]
type Condition = ObjectState['conditions'][number]
type ObjectRef = ObjectState['owners'][number]

/** Where a pod sits: its owners (nearest first) and the services that route to it. */
export interface PodPlacement {
  owners: ObjectRef[]
  services: string[]
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet'])
/** Node conditions that say something is wrong when True (Ready is the other way round). */
const NODE_PROBLEM_CONDITIONS = new Set([
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
  'NetworkUnavailable',
])

const latest = (times: Array<number | undefined>): number | undefined => {
  let best: number | undefined
  for (const t of times) if (t !== undefined && (best === undefined || t > best)) best = t
  return best
}

function conditionsOf(status: JsonObject): Array<Condition & { at?: number }> {
  const list = Array.isArray(status.conditions) ? status.conditions : []
  return list.filter(isJsonObject).flatMap((c) => {
    const type = stringAt(c, 'type')
    const value = stringAt(c, 'status')
    if (!type || !value) return []
    const condition: Condition & { at?: number } = { type, status: value }
    const reason = stringAt(c, 'reason')
    if (reason) condition.reason = reason
    const at = parseTimestamp(stringAt(c, 'lastTransitionTime'))
    if (at !== undefined) condition.at = at
    return [condition]
  })
}

function containerStateOf(raw: JsonObject): { state: ContainerState; at?: number } | undefined {
  const name = stringAt(raw, 'name')
  if (!name) return undefined
  const current = objectAt(raw, 'state')
  const last = objectAt(objectAt(raw, 'lastState'), 'terminated')
  const container: ContainerState = {
    name,
    state: 'unknown',
    ready: raw.ready === true,
    restarts: Math.max(0, Math.trunc(numberAt(raw, 'restartCount') ?? 0)),
  }
  let at: number | undefined
  if (isJsonObject(current.running)) {
    container.state = 'running'
    at = parseTimestamp(stringAt(current.running, 'startedAt'))
  } else if (isJsonObject(current.waiting)) {
    container.state = 'waiting'
    const reason = stringAt(current.waiting, 'reason')
    if (reason) container.reason = reason
  } else if (isJsonObject(current.terminated)) {
    container.state = 'terminated'
    const reason = stringAt(current.terminated, 'reason')
    if (reason) container.reason = reason
    const exitCode = numberAt(current.terminated, 'exitCode')
    if (exitCode !== undefined) container.exitCode = Math.trunc(exitCode)
    at = parseTimestamp(stringAt(current.terminated, 'finishedAt'))
  }
  const lastReason = stringAt(last, 'reason')
  if (lastReason) container.lastTerminationReason = lastReason
  const lastExit = numberAt(last, 'exitCode')
  if (lastExit !== undefined) container.lastExitCode = Math.trunc(lastExit)
  const lastAt = parseTimestamp(stringAt(last, 'finishedAt'))
  if (lastAt !== undefined) container.lastTerminatedTs = lastAt
  const result: { state: ContainerState; at?: number } = { state: container }
  const when = latest([at, lastAt])
  if (when !== undefined) result.at = when
  return result
}

function strip<T extends { at?: number }>(item: T): Omit<T, 'at'> {
  const { at: _at, ...rest } = item
  return rest
}

/**
 * A Pod's state: phase, container states with restarts and termination reasons (OOMKilled shows
 * up only here: the kubelet raises no Event for it), readiness, node, owners and services. Its
 * time is the latest transition the pod reports, so the same state seen twice (a relist) is one row.
 */
export function podState(
  pod: unknown,
  placement: PodPlacement,
  context: { cluster: string; now: number; deleted?: boolean },
): ObjectState | undefined {
  if (!isJsonObject(pod)) return undefined
  const metadata = objectAt(pod, 'metadata')
  const name = stringAt(metadata, 'name')
  if (!name) return undefined
  const namespace = stringAt(metadata, 'namespace')
  const status = objectAt(pod, 'status')
  const conditions = conditionsOf(status)
  const listAt = (key: string): unknown[] => (Array.isArray(status[key]) ? (status[key] as unknown[]) : [])
  const rawContainers = [...listAt('initContainerStatuses'), ...listAt('containerStatuses')].filter(
    isJsonObject,
  )
  const containers = rawContainers.flatMap((c) => {
    const state = containerStateOf(c)
    return state ? [state] : []
  })
  const deletedAt = parseTimestamp(stringAt(metadata, 'deletionTimestamp'))
  const ts =
    latest([
      parseTimestamp(stringAt(metadata, 'creationTimestamp')),
      parseTimestamp(stringAt(status, 'startTime')),
      ...conditions.map((c) => c.at),
      ...containers.map((c) => c.at),
      deletedAt,
    ]) ?? context.now

  const state: ObjectState = {
    ts: context.deleted ? Math.max(ts, deletedAt ?? context.now) : ts,
    cluster: context.cluster,
    pod: name,
    resource: { kind: 'Pod', name },
    phase: stringAt(status, 'phase') ?? 'Unknown',
    deleted: context.deleted ?? false,
    conditions: conditions.map(strip),
    containers: containers.map((c) => c.state),
    owners: placement.owners,
    services: placement.services,
  }
  if (namespace) {
    state.namespace = namespace
    state.resource.namespace = namespace
  }
  const uid = stringAt(metadata, 'uid')
  if (uid) state.resource.uid = uid
  const reason = stringAt(status, 'reason')
  if (reason) state.reason = reason
  const message = stringAt(status, 'message')
  if (message) state.message = message.slice(0, 1000)
  const node = stringAt(objectAt(pod, 'spec'), 'nodeName')
  if (node) state.node = node
  // The top of the ownership chain is the workload people name (Deployment, not ReplicaSet).
  const top = [...placement.owners].reverse().find((o) => WORKLOAD_KINDS.has(o.kind))
  const workload: WorkloadRef | undefined = top ? { kind: top.kind, name: top.name } : undefined
  if (workload) state.workload = workload
  const service = placement.services[0] ?? inferService(stringMap(metadata.labels), workload)
  if (service) state.service = service
  return state
}

/** A Node's state: Ready or not, pressure conditions, cordoned. Heartbeats alone change nothing here. */
export function nodeState(
  node: unknown,
  context: { cluster: string; now: number; deleted?: boolean },
): ObjectState | undefined {
  if (!isJsonObject(node)) return undefined
  const metadata = objectAt(node, 'metadata')
  const name = stringAt(metadata, 'name')
  if (!name) return undefined
  const conditions = conditionsOf(objectAt(node, 'status'))
  const ready = conditions.find((c) => c.type === 'Ready')
  const phase = !ready
    ? 'Unknown'
    : ready.status === 'True'
      ? 'Ready'
      : ready.status === 'False'
        ? 'NotReady'
        : 'Unknown'
  const listed = conditions.filter((c) => c.type === 'Ready' || NODE_PROBLEM_CONDITIONS.has(c.type))
  const spec = objectAt(node, 'spec')
  if (spec.unschedulable === true) listed.push({ type: 'Unschedulable', status: 'True' })
  const ts =
    latest([parseTimestamp(stringAt(metadata, 'creationTimestamp')), ...listed.map((c) => c.at)]) ??
    context.now
  const state: ObjectState = {
    ts: context.deleted ? context.now : ts,
    cluster: context.cluster,
    node: name,
    resource: { kind: 'Node', name },
    phase,
    deleted: context.deleted ?? false,
    conditions: listed.map(strip),
    containers: [],
    owners: [],
    services: [],
  }
  const uid = stringAt(metadata, 'uid')
  if (uid) state.resource.uid = uid
  if (ready?.reason) state.reason = ready.reason
  return state
}

/** What makes two observations of an object the same state: everything but the time. */
export function stateSignature(state: ObjectState): string {
  const { ts: _ts, ...rest } = state
  return JSON.stringify(rest)
}
