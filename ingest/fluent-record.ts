import { sameFlatValue, setBounded, type LogLevel, type LogRecord, type WorkloadRef } from '../core/index.js'
import { levelFromField, levelFromMessage } from './log-level.js'
import { inferService, inferWorkload } from './pod-workload.js'
import { isJsonObject, stringMap, type Normalised } from './json-object.js'
import { parseRfc3339 } from './rfc3339-time.js'

export type NormaliseResult = Normalised<LogRecord>

export interface NormaliseContext {
  cluster: string
  /** Receive time, used when the record carries no timestamp. */
  now: number
  source: string
  /** The shipper's event time (Forward protocol), which takes precedence over the record's fields. */
  eventTs?: number | undefined
  /** Added to every record's attributes, over its own (e.g. the fluentd tag of the request). */
  attributes?: Readonly<Record<string, string>> | undefined
}

const MESSAGE_FIELDS = ['log', 'message', 'msg', 'MESSAGE'] as const
const TIME_FIELDS = ['time', 'date', '@timestamp', 'timestamp', 'ts'] as const
const LEVEL_FIELDS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'levelname'] as const
/** Fields consumed into the envelope; everything else becomes an attribute. */
const CONSUMED = new Set<string>([
  ...MESSAGE_FIELDS,
  ...TIME_FIELDS,
  ...LEVEL_FIELDS,
  'stream',
  'kubernetes',
  'docker',
])
const MAX_ATTRIBUTES = 64
const MAX_ATTRIBUTE_LENGTH = 4096

/**
 * Timestamps as shippers write them: epoch seconds (fluent-bit `date`, often fractional),
 * epoch milliseconds or nanoseconds, or RFC 3339 / ISO 8601 strings (CRI `time`, `@timestamp`).
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    if (value > 1e17) return Math.floor(value / 1e6) // nanoseconds
    if (value > 1e14) return Math.floor(value / 1e3) // microseconds
    if (value > 1e11) return Math.floor(value) // milliseconds
    return Math.floor(value * 1000) // seconds
  }
  if (typeof value === 'string' && value.length > 0) {
    const rfc3339 = parseRfc3339(value)
    if (rfc3339 !== undefined) return rfc3339
    if (/^\d+(\.\d+)?$/.test(value)) return parseTimestamp(Number(value))
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

function attributeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > MAX_ATTRIBUTE_LENGTH ? text.slice(0, MAX_ATTRIBUTE_LENGTH) : text
}

/** What a pod's name and labels give every one of its lines. */
interface PodMetadata {
  /** The labels as they arrived, to recognise the same pod metadata on the next line. */
  rawLabels: unknown
  /** `label.<key>`, value, `label.<key>`, value, ... */
  labelAttributes: string[]
  workload: WorkloadRef | undefined
  service: string | undefined
}

/**
 * Pod metadata by pod name, most recently seen last. A shipper repeats one pod's metadata on every
 * line; deriving it once per pod (not per line) is a measurable share of the ingest path. Bounded:
 * the oldest pods go first.
 */
const podMetadataCache = new Map<string, PodMetadata>()
const POD_METADATA_CACHE_SIZE = 4096

function derivePodMetadata(pod: string | undefined, rawLabels: unknown): PodMetadata {
  const labels = stringMap(rawLabels)
  const workload = pod ? inferWorkload(pod, labels) : undefined
  const labelAttributes: string[] = []
  for (const [key, value] of Object.entries(labels)) labelAttributes.push(`label.${key}`, value)
  // Only plain string labels are remembered (others are rare and re-derived each time). Frozen
  // labels belong to a shared pod metadata block (packed-entries.ts): the same object comes again.
  const remembered = isJsonObject(rawLabels) && !Object.isFrozen(rawLabels) ? { ...labels } : rawLabels
  return { rawLabels: remembered, labelAttributes, workload, service: inferService(labels, workload) }
}

function podMetadata(pod: string | undefined, rawLabels: unknown): PodMetadata {
  if (pod === undefined) return derivePodMetadata(pod, rawLabels)
  const cached = podMetadataCache.get(pod)
  // The same labels as those the cached metadata was derived from (the same object, or a copy).
  if (cached && sameFlatValue(cached.rawLabels, rawLabels)) return cached
  const derived = derivePodMetadata(pod, rawLabels)
  setBounded(podMetadataCache, pod, derived, POD_METADATA_CACHE_SIZE)
  return derived
}

/** Whether an object has an own key, without listing them (Object.keys builds an array per record). */
function hasKeys(object: Record<string, string>): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true
  return false
}

/**
 * Maps one fluentd `out_http` / fluent-bit `http` record to a LogRecord. Records are open by design
 * (structured logs carry any fields): unknown fields become attributes. Known fields with the wrong
 * type are rejected with a reason.
 */
export function normaliseFluentRecord(raw: unknown, context: NormaliseContext): NormaliseResult {
  if (!isJsonObject(raw)) return { ok: false, reason: 'record must be a JSON object' }

  let messageField: string | undefined
  for (const field of MESSAGE_FIELDS) {
    if (raw[field] !== undefined) {
      messageField = field
      break
    }
  }
  if (messageField === undefined)
    return { ok: false, reason: `record has no message field (one of ${MESSAGE_FIELDS.join(', ')})` }
  const message = raw[messageField]
  if (typeof message !== 'string')
    return {
      ok: false,
      reason: `${messageField} must be a string, got ${Array.isArray(message) ? 'array' : typeof message}`,
    }

  let ts: number | undefined
  for (const field of TIME_FIELDS) {
    if (raw[field] === undefined) continue
    ts = parseTimestamp(raw[field])
    if (ts === undefined && context.eventTs === undefined)
      return { ok: false, reason: `${field} is not a timestamp: ${JSON.stringify(raw[field]).slice(0, 80)}` }
    break
  }

  const kubernetes = raw.kubernetes
  if (kubernetes !== undefined && !isJsonObject(kubernetes))
    return { ok: false, reason: 'kubernetes must be an object' }
  const k8s = kubernetes ?? {}
  for (const field of ['namespace_name', 'pod_name', 'container_name', 'host']) {
    if (k8s[field] !== undefined && typeof k8s[field] !== 'string')
      return { ok: false, reason: `kubernetes.${field} must be a string` }
  }
  if (k8s.labels !== undefined && !isJsonObject(k8s.labels))
    return { ok: false, reason: 'kubernetes.labels must be an object' }

  const stream = raw.stream
  if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr')
    return { ok: false, reason: 'stream must be "stdout" or "stderr"' }

  let level: LogLevel | undefined
  for (const field of LEVEL_FIELDS) {
    if (raw[field] !== undefined) {
      level = levelFromField(raw[field])
      if (level) break
    }
  }
  level ??= levelFromMessage(message)

  const pod = k8s.pod_name as string | undefined
  const { labelAttributes, workload, service } = podMetadata(pod, k8s.labels)

  let own: Record<string, string> | undefined
  let attributeCount = 0
  for (const key in raw) {
    // for-in, not Object.entries: no pair arrays per field of every record (a quarter of this
    // function's garbage). Decoded records are plain objects, with no inherited enumerables.
    const value = raw[key]
    if (CONSUMED.has(key) || value === undefined || value === null) continue
    own ??= {}
    if (attributeCount++ >= MAX_ATTRIBUTES) {
      own['argus.attributes_truncated'] = 'true'
      break
    }
    own[key] = attributeValue(value)
  }
  const attributes =
    own === undefined
      ? sharedAttributes(k8s, labelAttributes, context.attributes)
      : withPodAttributes(own, k8s, labelAttributes, context.attributes)

  const record: LogRecord = {
    ts: context.eventTs ?? ts ?? context.now,
    cluster: context.cluster,
    message: message.endsWith('\n') ? message.slice(0, -1) : message,
    level,
    source: context.source,
  }
  if (typeof k8s.namespace_name === 'string') record.namespace = k8s.namespace_name
  if (pod) record.pod = pod
  if (typeof k8s.container_name === 'string') record.container = k8s.container_name
  if (typeof k8s.host === 'string') record.node = k8s.host
  if (workload) record.workload = workload
  if (service) record.service = service
  if (stream === 'stdout' || stream === 'stderr') record.stream = stream
  if (attributes !== NO_ATTRIBUTES) record.attributes = attributes
  return { ok: true, record }
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({})

/** `attributes` with what the pod metadata gives a line (image, pod uid, labels), then `extra` over them. */
function withPodAttributes(
  attributes: Record<string, string>,
  k8s: Record<string, unknown>,
  labelAttributes: readonly string[],
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  if (typeof k8s.container_image === 'string') attributes['container.image'] = k8s.container_image
  if (typeof k8s.pod_id === 'string') attributes['pod.uid'] = k8s.pod_id
  for (let i = 0; i < labelAttributes.length; i += 2)
    attributes[labelAttributes[i] as string] = labelAttributes[i + 1] as string
  return extra ? Object.assign(attributes, extra) : attributes
}

/**
 * The attributes of the last line that had none of its own, and what they were made from. A
 * container's lines repeat one pod metadata block (the NDJSON and Forward decoders even hand it
 * over as the same object), so its lines share one frozen attributes object: no object per line,
 * and later stages (delta packs, the writer's stream check) compare it by reference.
 */
let shared:
  | {
      k8s: Record<string, unknown>
      labelAttributes: readonly string[]
      extra: Readonly<Record<string, string>> | undefined
      attributes: Readonly<Record<string, string>>
    }
  | undefined

function sharedAttributes(
  k8s: Record<string, unknown>,
  labelAttributes: readonly string[],
  extra: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  // The block must be frozen to be trusted unchanged since the last line (the decoders freeze it).
  if (shared && shared.k8s === k8s && shared.labelAttributes === labelAttributes && shared.extra === extra)
    return shared.attributes
  const attributes = withPodAttributes({}, k8s, labelAttributes, extra)
  const made = hasKeys(attributes) ? Object.freeze(attributes) : NO_ATTRIBUTES
  if (Object.isFrozen(k8s)) shared = { k8s, labelAttributes, extra, attributes: made }
  return made
}
