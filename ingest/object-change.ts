import { isDeepStrictEqual } from 'node:util'
import type { ChangeKind, ResourceChange } from '../core/index.js'
import { isJsonObject, numberAt, objectAt, stringAt, type JsonObject } from './json-object.js'
import { parseTimestamp } from './fluent-record.js'

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet'])
const CONFIG_KINDS = new Set(['ConfigMap', 'Secret'])
/** Secrets' values never leave the cluster: a diff names the changed keys only. */
const REDACTED = '(redacted)'

interface ContainerImage {
  container: string
  image: string | undefined
}

function containerImages(object: JsonObject): ContainerImage[] {
  const podSpec = objectAt(objectAt(objectAt(object, 'spec'), 'template'), 'spec')
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : []
  return containers
    .filter(isJsonObject)
    .map((c) => ({ container: stringAt(c, 'name') ?? '', image: stringAt(c, 'image') }))
}

function revisionOf(object: JsonObject): string | undefined {
  const annotations = objectAt(objectAt(object, 'metadata'), 'annotations')
  return (
    stringAt(annotations, 'deployment.kubernetes.io/revision') ??
    stringAt(objectAt(object, 'status'), 'updateRevision')
  )
}

/** The manager that last wrote the object, from managedFields: who made the change. */
function lastManager(object: JsonObject): string | undefined {
  const fields = objectAt(object, 'metadata').managedFields
  if (!Array.isArray(fields) || fields.length === 0) return undefined
  const latest = (fields as unknown[])
    .filter(isJsonObject)
    .sort(
      (a, b) => (parseTimestamp(stringAt(b, 'time')) ?? 0) - (parseTimestamp(stringAt(a, 'time')) ?? 0),
    )[0]
  return stringAt(latest, 'manager')
}

const shown = (value: unknown): string =>
  (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 200)

function dataDiff(before: JsonObject, after: JsonObject, secret: boolean): ResourceChange['diff'] {
  const diff: NonNullable<ResourceChange['diff']> = []
  for (const section of ['data', 'binaryData', 'stringData']) {
    const a = objectAt(before, section)
    const b = objectAt(after, section)
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (isDeepStrictEqual(a[key], b[key])) continue
      const entry: { path: string; from?: string; to?: string } = { path: `${section}.${key}` }
      if (a[key] !== undefined) entry.from = secret ? REDACTED : shown(a[key])
      if (b[key] !== undefined) entry.to = secret ? REDACTED : shown(b[key])
      diff.push(entry)
    }
  }
  return diff
}

/**
 * Turns an object update (as a watch delivers it: the previous and the new state) into resource
 * changes: a rollout when a workload's pod template changes (with the new revision and image diff),
 * a scale when its replicas change, a config change for ConfigMaps and Secrets, an HPA's scaling
 * decision, and create/delete. Status-only updates give nothing.
 */
export function objectChanges(
  before: unknown,
  after: unknown,
  context: { cluster: string; now: number; deleted?: boolean },
): ResourceChange[] {
  const object = isJsonObject(after) ? after : isJsonObject(before) ? before : undefined
  if (!object) return []
  const previous = isJsonObject(before) ? before : undefined
  const kind = stringAt(object, 'kind')
  const metadata = objectAt(object, 'metadata')
  const name = stringAt(metadata, 'name')
  if (!kind || !name) return []
  const namespace = stringAt(metadata, 'namespace')
  const base = (changeKind: ChangeKind): ResourceChange => {
    const change: ResourceChange = {
      ts: context.now,
      cluster: context.cluster,
      changeKind,
      resource: { kind, name },
    }
    if (namespace) {
      change.namespace = namespace
      change.resource.namespace = namespace
    }
    const uid = stringAt(metadata, 'uid')
    if (uid) change.resource.uid = uid
    if (WORKLOADS.has(kind)) change.workload = { kind, name }
    const actor = lastManager(object)
    if (actor) change.actor = actor
    return change
  }

  if (context.deleted) return [base('delete')]
  if (!previous) {
    const created = base('create')
    const createdAt = parseTimestamp(stringAt(metadata, 'creationTimestamp'))
    if (createdAt !== undefined) created.ts = createdAt
    return [created]
  }

  const changes: ResourceChange[] = []
  if (WORKLOADS.has(kind)) {
    const templateBefore = objectAt(objectAt(previous, 'spec'), 'template')
    const templateAfter = objectAt(objectAt(object, 'spec'), 'template')
    if (!isDeepStrictEqual(templateBefore, templateAfter)) {
      const rollout = base('rollout')
      const revision = revisionOf(object)
      if (revision) rollout.revision = revision
      const oldImages = new Map(containerImages(previous).map((c) => [c.container, c.image]))
      rollout.images = containerImages(object)
        .filter((c) => oldImages.get(c.container) !== c.image)
        .map((c) => {
          const image: { container: string; from?: string; to?: string } = { container: c.container }
          const from = oldImages.get(c.container)
          if (from) image.from = from
          if (c.image) image.to = c.image
          return image
        })
      changes.push(rollout)
    }
    const replicasBefore = numberAt(objectAt(previous, 'spec'), 'replicas')
    const replicasAfter = numberAt(objectAt(object, 'spec'), 'replicas')
    if (replicasBefore !== undefined && replicasAfter !== undefined && replicasBefore !== replicasAfter) {
      const scale = base('scale')
      scale.fromReplicas = replicasBefore
      scale.toReplicas = replicasAfter
      changes.push(scale)
    }
  } else if (CONFIG_KINDS.has(kind)) {
    const diff = dataDiff(previous, object, kind === 'Secret')
    if (diff && diff.length > 0) {
      const config = base('config')
      config.diff = diff
      changes.push(config)
    }
  } else if (kind === 'HorizontalPodAutoscaler') {
    const before = numberAt(objectAt(previous, 'status'), 'desiredReplicas')
    const desired = numberAt(objectAt(object, 'status'), 'desiredReplicas')
    if (before !== undefined && desired !== undefined && before !== desired) {
      const scale = base('scale')
      scale.fromReplicas = before
      scale.toReplicas = desired
      scale.actor = 'horizontal-pod-autoscaler'
      const target = objectAt(objectAt(object, 'spec'), 'scaleTargetRef')
      const targetKind = stringAt(target, 'kind')
      const targetName = stringAt(target, 'name')
      if (targetKind && targetName) scale.workload = { kind: targetKind, name: targetName }
      changes.push(scale)
    }
  }
  return changes
}
