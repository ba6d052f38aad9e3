import {
  DEAD_LETTER_HEADERS,
  envelopeIdentity,
  metricSeriesId,
  sameFlatValue,
  StreamIdHasher,
  TOPICS,
  type Action,
  type Alert,
  type AlertDelivery,
  type Anomaly,
  type Envelope,
  type ExternalAlert,
  type Incident,
  type KubeEvent,
  type LogRecord,
  type MetricSample,
  type MetricSeries,
  type NetworkFlow,
  type ObjectState,
  type ResourceChange,
  type RootCause,
} from '../core/index.js'
import { rowBinaryLayout, type RowBinaryLayout, type RowBinaryType } from './row-binary.js'
import { TABLES, type TableName } from './tables.js'

/**
 * Rows are value arrays in column order, inserted as JSONCompactEachRow: no key names to
 * serialise or parse. This is the ingest hot path: each row is built in one array. Named tuples
 * are the exception: ClickHouse reads them from JSON objects keyed by the tuple's field names.
 */
type Row = unknown[]

/**
 * Where a row came from on the bus: source, partition, and stored offset (offset + 1, so 0 means
 * "not from a durable bus"). Every row starts with these columns.
 */
export type BusPosition = readonly [source: string, partition: number, storedOffset: number]
/** The bus position's columns, as the intake tables type them (migrations 12 and 16). */
const BUS_COLUMN_TYPES = [
  ['bus_source', 'String'],
  ['bus_partition', 'UInt16'],
  ['bus_offset', 'UInt64'],
] as const satisfies ReadonlyArray<readonly [string, RowBinaryType]>
const BUS_COLUMNS = BUS_COLUMN_TYPES.map(([name]) => name)
const AFTER_BUS = BUS_COLUMNS.length

/** The envelope columns a stream or series row holds (time and attributes are its rows' own). */
export const DIMENSION_ENVELOPE = [
  'cluster',
  'namespace',
  'workload_kind',
  'workload_name',
  'pod',
  'container',
  'node',
  'service',
]

const ENVELOPE_COLUMNS = ['ts', ...DIMENSION_ENVELOPE, 'attributes']

function startRow(position: BusPosition, width: number): Row {
  const row: Row = new Array(AFTER_BUS + width)
  row[0] = position[0]
  row[1] = position[1]
  row[2] = position[2]
  return row
}

function envelopeValues(e: Envelope, position: BusPosition, extra: number): Row {
  const row = startRow(position, ENVELOPE_COLUMNS.length + extra)
  const at = AFTER_BUS
  row[at] = e.ts
  row[at + 1] = e.cluster
  row[at + 2] = e.namespace ?? ''
  row[at + 3] = e.workload?.kind ?? ''
  row[at + 4] = e.workload?.name ?? ''
  row[at + 5] = e.pod ?? ''
  row[at + 6] = e.container ?? ''
  row[at + 7] = e.node ?? ''
  row[at + 8] = e.service ?? ''
  row[at + 9] = e.attributes ?? {}
  return row
}

/** Builds a mapper from the table's own columns (after the envelope) and a function giving their values. */
function mapper<T extends Envelope>(columns: string[], values: (record: T) => unknown[]): TopicMapper {
  const offset = AFTER_BUS + ENVELOPE_COLUMNS.length
  return {
    columns: [...BUS_COLUMNS, ...ENVELOPE_COLUMNS, ...columns],
    toRow: (message, position) => {
      const typed = message.value as T
      const row = envelopeValues(typed, position, columns.length)
      const rest = values(typed)
      for (let i = 0; i < rest.length; i++) row[offset + i] = rest[i]
      return row
    },
  }
}

/** A message as the writer receives it; the bus's delivered messages have this shape. */
export interface StoredMessage {
  key: string
  value: unknown
  headers?: Readonly<Record<string, string>> | undefined
  publishedAt: number
  /** Where the message sits on the bus; recorded with the row when the bus's offsets are durable. */
  partition?: number
  offset?: number
}

interface TopicMapper {
  /** Every column the rows fill, the bus position first. */
  columns: string[]
  toRow: (message: StoredMessage, position: BusPosition) => Row
}

const logRow = mapper<LogRecord>(['level', 'stream', 'source', 'template_id', 'message'], (r) => [
  r.level,
  r.stream ?? '',
  r.source,
  r.templateId ?? '',
  r.message,
])

/**
 * A table of record filled narrow: rows go to an intake table (Null engine) naming their dimension
 * row (a log stream, a metric series) by id, and a materialized view joins the dimension row in
 * and writes the full row to the table of record. What repeats on every row (a log line's pod and
 * labels, a sample's name and labels) is then parsed once per stream or series instead of once
 * per row. The writer inserts a dimension row before the first rows that name it.
 */
export interface NarrowInsert {
  intakeTable: TableName
  /** The intake's columns, the bus position first, then the dimension id; inserted as RowBinary. */
  intake: RowBinaryLayout
  dimensionTable: TableName
  /** The dimension id first. */
  dimensionColumns: string[]
  /** One message as an intake row; its dimension id is at `DIMENSION_ID_AT`. */
  narrowRow(message: StoredMessage, position: BusPosition): Row
  /**
   * The dimension row of a record (a message's value, or a series of a MetricBatch) whose rows
   * name `id`; `seenAt` is epoch seconds.
   */
  dimensionRow(record: unknown, id: string, seenAt: number): Row
  /**
   * Where the intake's rows are kept with their bus positions, when not in the mapper's table (its
   * bus offsets are tracked there).
   */
  recordTable?: TableName
}

/** Where a narrow row holds its dimension id: right after the bus position. */
export const DIMENSION_ID_AT = AFTER_BUS

/**
 * Attributes a log line shares with its whole stream: the pod's labels, image and uid, and the
 * shipper's tag (set in ingest/fluent-record.ts and by the receivers). The rest are the line's own.
 */
const isStreamAttribute = (key: string): boolean =>
  key.startsWith('label.') || key === 'container.image' || key === 'pod.uid' || key === 'fluent.tag'

/** A stream or series row: its id, the envelope in DIMENSION_ENVELOPE order, then `rest`. */
function dimensionValues(id: string, e: Omit<Envelope, 'ts'>, rest: unknown[]): Row {
  return [
    id,
    e.cluster,
    e.namespace ?? '',
    e.workload?.kind ?? '',
    e.workload?.name ?? '',
    e.pod ?? '',
    e.container ?? '',
    e.node ?? '',
    e.service ?? '',
    ...rest,
  ]
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({})

/** Whether two lines name the same stream by their envelope, stream and source (not attributes). */
const sameStreamFields = (a: LogRecord, b: LogRecord): boolean =>
  a.pod === b.pod &&
  a.container === b.container &&
  a.stream === b.stream &&
  a.namespace === b.namespace &&
  a.cluster === b.cluster &&
  a.node === b.node &&
  a.service === b.service &&
  a.source === b.source &&
  sameFlatValue(a.workload, b.workload)

/**
 * The line mapped last and its stream id. A shipper sends a container's lines together, so the
 * next line is usually of the same stream: comparing its fields (strings a delta pack even decodes
 * as the same ones) replaces hashing them. The stream attributes must come in the same order too,
 * so an id never depends on which line came before. The last line's stream attributes are listed
 * only once a line matches its other fields: lines of streams that alternate allocate nothing more.
 */
let lastLine: LogRecord | undefined
let lastId = ''
let lastAttributes: string[] | undefined

/** A line's stream attributes in their order, as key, value, key, value, ... */
function streamAttributesOf(line: LogRecord): string[] {
  const pairs: string[] = []
  const attributes = line.attributes
  if (attributes)
    for (const key in attributes) if (isStreamAttribute(key)) pairs.push(key, attributes[key] as string)
  return pairs
}

/** Whether `line`'s stream attributes are `pairs` (see streamAttributesOf), without listing its own. */
function hasStreamAttributes(line: LogRecord, pairs: readonly string[]): boolean {
  const attributes = line.attributes
  let at = 0
  if (attributes)
    for (const key in attributes) {
      if (!isStreamAttribute(key)) continue
      if (pairs[at] !== key || pairs[at + 1] !== attributes[key]) return false
      at += 2
    }
  return at === pairs.length
}

function rememberStream(line: LogRecord, id: string): string {
  lastLine = line
  lastId = id
  lastAttributes = undefined
  return id
}

/** The last line's stream id, when `line` is of the same stream. */
function lastStreamIdFor(line: LogRecord): string | undefined {
  if (lastLine === undefined || !sameStreamFields(line, lastLine)) return undefined
  lastAttributes ??= streamAttributesOf(lastLine)
  return hasStreamAttributes(line, lastAttributes) ? lastId : undefined
}

/** Log lines as (stream id, ts, level, template, message, own attributes); streams hold the rest. */
const logStreams: NarrowInsert = {
  intakeTable: TABLES.logIntake,
  recordTable: TABLES.logLines,
  intake: rowBinaryLayout([
    ...BUS_COLUMN_TYPES,
    ['stream_id', 'String'],
    ['ts', 'DateTime64(3)'],
    ['level', 'String'],
    ['template_id', 'String'],
    ['message', 'String'],
    ['attributes', 'Map(String, String)'],
  ]),
  dimensionTable: TABLES.logStreams,
  dimensionColumns: ['stream_id', ...DIMENSION_ENVELOPE, 'stream', 'source', 'attributes', 'last_seen'],
  narrowRow(message, position) {
    const r = message.value as LogRecord
    const known = lastStreamIdFor(r)
    // Hashed only for a line of another stream than the last one; one pass sorts the attributes.
    const identity =
      known === undefined
        ? envelopeIdentity(r)
            .add(r.stream ?? '')
            .add(r.source)
        : undefined
    let own: Record<string, string> | undefined
    const attributes = r.attributes
    if (attributes)
      for (const key in attributes) {
        const value = attributes[key] as string
        if (!isStreamAttribute(key)) (own ??= {})[key] = value
        else identity?.add(key).add(value)
      }
    const row = startRow(position, 6)
    row[AFTER_BUS] = identity ? rememberStream(r, identity.id()) : known
    row[AFTER_BUS + 1] = r.ts
    row[AFTER_BUS + 2] = r.level
    row[AFTER_BUS + 3] = r.templateId ?? ''
    row[AFTER_BUS + 4] = r.message
    row[AFTER_BUS + 5] = own ?? NO_ATTRIBUTES
    return row
  },
  dimensionRow(record, id, seenAt) {
    const r = record as LogRecord
    const shared: Record<string, string> = {}
    for (const [key, value] of Object.entries(r.attributes ?? {}))
      if (isStreamAttribute(key)) shared[key] = value
    return dimensionValues(id, r, [r.stream ?? '', r.source, shared, seenAt])
  },
}

const rollupHasher = new StreamIdHasher()

/**
 * What the one-minute metric rollup groups a series' points by (migration 17): its cluster,
 * namespace, workload, pod, container and name, hashed to 53 bits. The points carry it, so the
 * rollup's view groups them by one number instead of joining each block to its series (which
 * was half of what storing a point cost); series rows carry it too, to name the rollup's rows.
 */
export function metricRollupKey(s: MetricSample | MetricSeries): number {
  return rollupHasher
    .begin()
    .add(s.cluster)
    .add(s.namespace ?? '')
    .add(s.workload?.kind ?? '')
    .add(s.workload?.name ?? '')
    .add(s.pod ?? '')
    .add(s.container ?? '')
    .add(s.name)
    .numericId()
}

/** Samples as (series id, rollup key, ts, value); series hold the envelope, name, type and labels. */
const metricSeries: NarrowInsert = {
  intakeTable: TABLES.metricIntake,
  recordTable: TABLES.metricPoints,
  intake: rowBinaryLayout([
    ...BUS_COLUMN_TYPES,
    ['series_id', 'String'],
    ['rollup_key', 'UInt64'],
    ['ts', 'DateTime64(3)'],
    ['value', 'Float64'],
  ]),
  dimensionTable: TABLES.metricSeries,
  dimensionColumns: [
    'series_id',
    ...DIMENSION_ENVELOPE,
    'attributes',
    'name',
    'type',
    'labels',
    'rollup_key',
    'last_seen',
  ],
  narrowRow(message, position) {
    const r = message.value as MetricSample
    const row = startRow(position, 4)
    row[AFTER_BUS] = r.seriesId ?? metricSeriesId(r)
    row[AFTER_BUS + 1] = metricRollupKey(r)
    row[AFTER_BUS + 2] = r.ts
    row[AFTER_BUS + 3] = r.value
    return row
  },
  dimensionRow(record, id, seenAt) {
    const r = record as MetricSeries
    return dimensionValues(id, r, [
      r.attributes ?? {},
      r.name,
      r.type ?? 'unknown',
      r.labels,
      metricRollupKey(r),
      seenAt,
    ])
  },
}

const metricRow = mapper<MetricSample>(['name', 'type', 'value', 'labels'], (r) => [
  r.name,
  r.type ?? 'unknown',
  r.value,
  r.labels,
])

const kubeEventRow = mapper<KubeEvent>(
  [
    'uid',
    'type',
    'reason',
    'message',
    'involved_kind',
    'involved_name',
    'involved_namespace',
    'involved_uid',
    'reporting_component',
    'count',
    'first_ts',
  ],
  (r) => [
    r.uid,
    r.type,
    r.reason,
    r.message,
    r.involvedObject.kind,
    r.involvedObject.name,
    r.involvedObject.namespace ?? '',
    r.involvedObject.uid ?? '',
    r.reportingComponent ?? '',
    r.count,
    r.firstTs ?? r.ts,
  ],
)

const changeRow = mapper<ResourceChange>(
  [
    'change_kind',
    'resource_kind',
    'resource_name',
    'resource_uid',
    'revision',
    'from_replicas',
    'to_replicas',
    'images',
    'diff',
    'actor',
  ],
  (r) => [
    r.changeKind,
    r.resource.kind,
    r.resource.name,
    r.resource.uid ?? '',
    r.revision ?? '',
    r.fromReplicas ?? null,
    r.toReplicas ?? null,
    (r.images ?? []).map((i) => ({ container: i.container, from: i.from ?? '', to: i.to ?? '' })),
    (r.diff ?? []).map((d) => ({ path: d.path, from: d.from ?? '', to: d.to ?? '' })),
    r.actor ?? '',
  ],
)

const objectStateRow = mapper<ObjectState>(
  [
    'resource_kind',
    'resource_name',
    'resource_uid',
    'phase',
    'reason',
    'message',
    'deleted',
    'conditions',
    'containers',
    'owners',
    'services',
  ],
  (r) => [
    r.resource.kind,
    r.resource.name,
    r.resource.uid ?? '',
    r.phase,
    r.reason ?? '',
    r.message ?? '',
    r.deleted,
    r.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? '' })),
    r.containers.map((c) => ({
      name: c.name,
      state: c.state,
      ready: c.ready,
      restarts: c.restarts,
      reason: c.reason ?? '',
      exit_code: c.exitCode ?? null,
      last_termination_reason: c.lastTerminationReason ?? '',
      last_exit_code: c.lastExitCode ?? null,
      last_terminated_at: c.lastTerminatedTs ?? null,
    })),
    r.owners.map((o) => ({ kind: o.kind, name: o.name })),
    r.services,
  ],
)

const externalAlertRow = mapper<ExternalAlert>(
  [
    'source',
    'receiver',
    'status',
    'fingerprint',
    'alertname',
    'severity',
    'labels',
    'annotations',
    'starts_at',
    'ends_at',
    'generator_url',
    'group_key',
  ],
  (r) => [
    r.source,
    r.receiver,
    r.status,
    r.fingerprint,
    r.alertname,
    r.severity,
    r.labels,
    r.annotations,
    r.startsAt,
    r.endsAt ?? null,
    r.generatorURL ?? '',
    r.groupKey ?? '',
  ],
)

const flowRow = mapper<NetworkFlow>(
  [
    'start_ts',
    'src_namespace',
    'src_name',
    'src_aggregated',
    'src_type',
    'src_labels',
    'src_ip',
    'dst_namespace',
    'dst_name',
    'dst_aggregated',
    'dst_type',
    'dst_labels',
    'dst_ip',
    'dst_port',
    'dst_service_name',
    'dst_service_namespace',
    'protocol',
    'action',
    'reporter',
    'bytes_in',
    'bytes_out',
    'packets_in',
    'packets_out',
    'flow_count',
    'policies',
  ],
  (r) => [
    r.startTs,
    r.source.namespace,
    r.source.name,
    r.source.aggregatedName,
    r.source.type,
    r.source.labels,
    r.source.ip ?? '',
    r.destination.namespace,
    r.destination.name,
    r.destination.aggregatedName,
    r.destination.type,
    r.destination.labels,
    r.destination.ip ?? '',
    r.destination.port ?? 0,
    r.destServiceName ?? '',
    r.destServiceNamespace ?? '',
    r.protocol,
    r.action,
    r.reporter,
    r.bytesIn,
    r.bytesOut,
    r.packetsIn,
    r.packetsOut,
    r.flowCount,
    r.policies,
  ],
)

const anomalyRow = mapper<Anomaly>(
  [
    'id',
    'entity_kind',
    'entity_name',
    'entity_namespace',
    'signal',
    'kind',
    'score',
    'severity',
    'summary',
    'evidence',
  ],
  (r) => [
    r.id,
    r.entity.kind,
    r.entity.name,
    r.entity.namespace ?? '',
    r.signal,
    r.kind,
    r.score,
    r.severity,
    r.summary,
    JSON.stringify(r.evidence),
  ],
)

const incidentRow = mapper<Incident>(
  ['id', 'version', 'status', 'severity', 'title', 'opened_at', 'resolved_at', 'anomaly_ids', 'entities'],
  (r) => [
    r.id,
    r.version,
    r.status,
    r.severity,
    r.title,
    r.openedAt,
    r.resolvedAt ?? null,
    r.anomalyIds,
    JSON.stringify(r.entities),
  ],
)

const rootCauseRow = mapper<RootCause>(
  [
    'incident_id',
    'rank',
    'entity_kind',
    'entity_name',
    'entity_namespace',
    'score',
    'explanation',
    'evidence',
  ],
  (r) => [
    r.incidentId,
    r.rank,
    r.entity.kind,
    r.entity.name,
    r.entity.namespace ?? '',
    r.score,
    r.explanation,
    JSON.stringify(r.evidence),
  ],
)

const alertRow = mapper<Alert>(
  ['fingerprint', 'status', 'labels', 'annotations', 'starts_at', 'ends_at', 'incident_id'],
  (r) => [r.fingerprint, r.status, r.labels, r.annotations, r.startsAt, r.endsAt ?? null, r.incidentId ?? ''],
)

const alertDeliveryRow = mapper<AlertDelivery>(
  [
    'receiver',
    'group_key',
    'sequence',
    'idempotency_key',
    'status',
    'notification_status',
    'attempts',
    'reason',
    'status_code',
    'fingerprints',
    'incident_ids',
  ],
  (r) => [
    r.receiver,
    r.groupKey,
    r.sequence,
    r.idempotencyKey,
    r.status,
    r.notificationStatus,
    r.attempts,
    r.reason ?? '',
    r.statusCode ?? null,
    r.fingerprints,
    r.incidentIds,
  ],
)

const actionRow = mapper<Action>(
  [
    'id',
    'incident_id',
    'policy',
    'kind',
    'target_kind',
    'target_name',
    'target_namespace',
    'params',
    'status',
    'reason',
    'actor',
  ],
  (r) => [
    r.id,
    r.incidentId ?? '',
    r.policy ?? '',
    r.kind,
    r.target.kind,
    r.target.name,
    r.target.namespace ?? '',
    r.params,
    r.status,
    r.reason,
    r.actor ?? '',
  ],
)

const h = DEAD_LETTER_HEADERS
const deadLetterRow: TopicMapper = {
  columns: [
    ...BUS_COLUMNS,
    'ts',
    'topic',
    'partition',
    'offset',
    'consumer_group',
    'error_code',
    'error_message',
    'attempts',
    'key',
    'payload',
    'headers',
  ],
  toRow: (m, position) => {
    const headers = m.headers ?? {}
    const values = [
      m.publishedAt,
      headers[h.originalTopic] ?? '',
      Number(headers[h.originalPartition] ?? 0),
      Number(headers[h.originalOffset] ?? 0),
      headers[h.group] ?? '',
      headers[h.errorCode] ?? '',
      headers[h.errorMessage] ?? '',
      Number(headers[h.attempts] ?? 0),
      m.key,
      JSON.stringify(m.value) ?? 'null',
      headers,
    ]
    const row = startRow(position, values.length)
    for (let i = 0; i < values.length; i++) row[AFTER_BUS + i] = values[i]
    return row
  },
}

export interface TopicTable extends TopicMapper {
  /** The table of record: queries, bus offsets and row counts refer to it. */
  table: TableName
  /** Set when the writer fills `table` narrow, through an intake table and a view. */
  narrow?: NarrowInsert
  /**
   * Set when each message is a MetricBatch: its points are rows of `narrow`, encoded from its
   * columns, and its series are the dimension rows. Its bus offsets are recorded under the topic's
   * own source (`<source>/<topic>`), since the per-sample topic's rows share the record table.
   */
  pointBatches?: true
}

/** Where each persisted topic lands and how its messages become rows. */
export const TOPIC_TABLES: Readonly<Record<string, TopicTable>> = {
  [TOPICS.logs]: { table: TABLES.logs, ...logRow, narrow: logStreams },
  [TOPICS.metrics]: { table: TABLES.metrics, ...metricRow, narrow: metricSeries },
  [TOPICS.metricBatches]: { table: TABLES.metrics, ...metricRow, narrow: metricSeries, pointBatches: true },
  [TOPICS.kubeEvents]: { table: TABLES.kubeEvents, ...kubeEventRow },
  [TOPICS.resourceChanges]: { table: TABLES.resourceChanges, ...changeRow },
  [TOPICS.objectStates]: { table: TABLES.objectStates, ...objectStateRow },
  [TOPICS.externalAlerts]: { table: TABLES.externalAlerts, ...externalAlertRow },
  [TOPICS.flows]: { table: TABLES.flows, ...flowRow },
  [TOPICS.anomalies]: { table: TABLES.anomalies, ...anomalyRow },
  [TOPICS.incidents]: { table: TABLES.incidents, ...incidentRow },
  [TOPICS.rootCauses]: { table: TABLES.rootCauses, ...rootCauseRow },
  [TOPICS.alerts]: { table: TABLES.alerts, ...alertRow },
  [TOPICS.alertDeliveries]: { table: TABLES.alertDeliveries, ...alertDeliveryRow },
  [TOPICS.actions]: { table: TABLES.actionLog, ...actionRow },
  [TOPICS.deadLetter]: { table: TABLES.deadLetters, ...deadLetterRow },
}

export const PERSISTED_TOPICS: readonly string[] = Object.keys(TOPIC_TABLES)
