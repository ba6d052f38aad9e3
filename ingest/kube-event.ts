import type { KubeEvent, WorkloadRef } from '../core/index.js'
import { isJsonObject, numberAt, objectAt, stringAt, type Normalised } from './json-object.js'
import { parseTimestamp } from './fluent-record.js'
import { inferWorkloadFromPodName } from './pod-workload.js'

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'])

/**
 * Maps a Kubernetes Event object as the API server returns it, core/v1 (`involvedObject`,
 * `firstTimestamp`/`lastTimestamp`, `count`) or events.k8s.io/v1 (`regarding`, `note`,
 * `eventTime`, `series`), to a KubeEvent.
 */
export function normaliseKubeEvent(
  raw: unknown,
  context: { cluster: string; now: number },
): Normalised<KubeEvent> {
  if (!isJsonObject(raw)) return { ok: false, reason: 'event must be a JSON object' }
  const metadata = objectAt(raw, 'metadata')
  const uid = stringAt(metadata, 'uid')
  if (!uid) return { ok: false, reason: 'metadata.uid is missing' }
  const regarding = isJsonObject(raw.regarding) ? raw.regarding : objectAt(raw, 'involvedObject')
  const kind = stringAt(regarding, 'kind')
  const name = stringAt(regarding, 'name')
  if (!kind || !name) return { ok: false, reason: 'involvedObject/regarding needs kind and name' }
  const type = stringAt(raw, 'type') ?? 'Normal'
  if (type !== 'Normal' && type !== 'Warning')
    return { ok: false, reason: `type must be Normal or Warning, got ${type}` }
  const reason = stringAt(raw, 'reason') ?? ''
  const message = stringAt(raw, 'note') ?? stringAt(raw, 'message') ?? ''
  const series = objectAt(raw, 'series')
  const count = numberAt(series, 'count') ?? numberAt(raw, 'deprecatedCount') ?? numberAt(raw, 'count') ?? 1
  const last =
    parseTimestamp(stringAt(series, 'lastObservedTime')) ??
    parseTimestamp(stringAt(raw, 'lastTimestamp')) ??
    parseTimestamp(stringAt(raw, 'eventTime')) ??
    parseTimestamp(stringAt(metadata, 'creationTimestamp'))
  const first =
    parseTimestamp(stringAt(raw, 'deprecatedFirstTimestamp')) ??
    parseTimestamp(stringAt(raw, 'firstTimestamp')) ??
    parseTimestamp(stringAt(raw, 'eventTime'))
  const namespace = stringAt(regarding, 'namespace') ?? stringAt(metadata, 'namespace')
  const source = objectAt(raw, 'source')
  const reportingComponent =
    stringAt(raw, 'reportingController') ??
    stringAt(raw, 'reportingComponent') ??
    stringAt(source, 'component')

  const event: KubeEvent = {
    ts: last ?? context.now,
    cluster: context.cluster,
    uid,
    type,
    reason,
    message,
    involvedObject: { kind, name },
    count: Math.max(1, Math.trunc(count)),
  }
  if (namespace) {
    event.namespace = namespace
    event.involvedObject.namespace = namespace
  }
  const involvedUid = stringAt(regarding, 'uid')
  if (involvedUid) event.involvedObject.uid = involvedUid
  if (reportingComponent) event.reportingComponent = reportingComponent
  if (first !== undefined) event.firstTs = first
  let workload: WorkloadRef | undefined
  if (kind === 'Pod') {
    event.pod = name
    workload = inferWorkloadFromPodName(name)
  } else if (WORKLOAD_KINDS.has(kind)) {
    workload = { kind, name }
  }
  if (workload) event.workload = workload
  const host = kind === 'Node' ? name : stringAt(source, 'host')
  if (host) event.node = host
  return { ok: true, record: event }
}
