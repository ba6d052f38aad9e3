import Type, { type Static } from 'typebox'
import { Attributes, envelopeProperties } from './envelope.js'

const ObjectRef = Type.Object(
  {
    kind: Type.String(),
    name: Type.String(),
    namespace: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

/** A Kubernetes Event (core/v1 or events.k8s.io/v1), flattened. */
export const KubeEvent = Type.Object(
  {
    ...envelopeProperties,
    uid: Type.String({ description: 'Event object uid; with count it identifies one occurrence' }),
    type: Type.Union([Type.Literal('Normal'), Type.Literal('Warning')]),
    reason: Type.String(),
    message: Type.String(),
    involvedObject: ObjectRef,
    reportingComponent: Type.Optional(Type.String()),
    count: Type.Integer({ minimum: 1 }),
    firstTs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
export type KubeEvent = Static<typeof KubeEvent>

export const ChangeKind = Type.Union([
  Type.Literal('rollout'),
  Type.Literal('scale'),
  Type.Literal('config'),
  Type.Literal('create'),
  Type.Literal('delete'),
  Type.Literal('update'),
])
export type ChangeKind = Static<typeof ChangeKind>

/** A change to a cluster object: rollouts, scaling, config edits. Changes are root-cause candidates. */
export const ResourceChange = Type.Object(
  {
    ...envelopeProperties,
    changeKind: ChangeKind,
    resource: ObjectRef,
    revision: Type.Optional(Type.String()),
    fromReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
    toReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
    images: Type.Optional(
      Type.Array(
        Type.Object(
          { container: Type.String(), from: Type.Optional(Type.String()), to: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    /** Changed fields as JSON paths with old and new values (stringified), for evidence. */
    diff: Type.Optional(
      Type.Array(
        Type.Object(
          { path: Type.String(), from: Type.Optional(Type.String()), to: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    actor: Type.Optional(
      Type.String({ description: 'who made the change, when known (managedFields manager)' }),
    ),
  },
  { additionalProperties: false },
)
export type ResourceChange = Static<typeof ResourceChange>

export const LogLevel = Type.Union([
  Type.Literal('trace'),
  Type.Literal('debug'),
  Type.Literal('info'),
  Type.Literal('warn'),
  Type.Literal('error'),
  Type.Literal('fatal'),
  Type.Literal('unknown'),
])
export type LogLevel = Static<typeof LogLevel>

export const LogRecord = Type.Object(
  {
    ...envelopeProperties,
    message: Type.String(),
    level: LogLevel,
    stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')])),
    /** Which receiver produced the record: `fluentd-http`, `fluent-bit-http`, `forward`, ... */
    source: Type.String(),
    /** Assigned by the log template miner. */
    templateId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type LogRecord = Static<typeof LogRecord>

export const MetricType = Type.Union([
  Type.Literal('gauge'),
  Type.Literal('counter'),
  Type.Literal('histogram'),
  Type.Literal('summary'),
  Type.Literal('unknown'),
])

const seriesIdProperty = Type.String({
  pattern: '^[0-9a-f]{16}$',
  description:
    "The series' storage id (see core/series-identity.ts), set by a receiver that decodes a series once for all its samples",
})
const { ts: _sampleTime, ...seriesEnvelopeProperties } = envelopeProperties
const seriesProperties = {
  name: Type.String({ minLength: 1 }),
  type: Type.Optional(MetricType),
  labels: Attributes,
}

export const MetricSample = Type.Object(
  {
    ...envelopeProperties,
    ...seriesProperties,
    value: Type.Number(),
    seriesId: Type.Optional(seriesIdProperty),
  },
  { additionalProperties: false },
)
export type MetricSample = Static<typeof MetricSample>

/** A metric series: a sample's envelope (without its time), name, type, labels and storage id. */
export const MetricSeries = Type.Object(
  { ...seriesEnvelopeProperties, ...seriesProperties, seriesId: seriesIdProperty },
  { additionalProperties: false },
)
export type MetricSeries = Static<typeof MetricSeries>

/**
 * Points of the series of one partition key, as columns: point i is `series[seriesIndex[i]]` at
 * `ts[i]` with `value[i]`. Receivers that decode many samples at once (remote_write) publish these
 * instead of a message per sample, so a series' envelope and labels travel once per batch and a
 * point costs three numbers on the bus, in the writer and in the analyzer.
 */
export const MetricBatch = Type.Object(
  {
    series: Type.Array(MetricSeries, { minItems: 1 }),
    seriesIndex: Type.Array(Type.Integer({ minimum: 0 })),
    ts: Type.Array(Type.Integer({ minimum: 1, description: 'Unix epoch milliseconds' })),
    value: Type.Array(Type.Number()),
  },
  { additionalProperties: false },
)
export type MetricBatch = Static<typeof MetricBatch>

const FlowEndpoint = Type.Object(
  {
    namespace: Type.String(),
    name: Type.String({ description: 'pod name, or "-" when aggregated' }),
    aggregatedName: Type.String({ description: 'workload prefix, e.g. the ReplicaSet name with a `*`' }),
    type: Type.String({ description: 'wep, hep, ns, net' }),
    labels: Attributes,
    ip: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
)

/** A Calico flow log record, one aggregated flow between two endpoints over an interval. */
export const NetworkFlow = Type.Object(
  {
    ...envelopeProperties,
    startTs: Type.Integer({ minimum: 0 }),
    endTs: Type.Integer({ minimum: 0 }),
    source: FlowEndpoint,
    destination: FlowEndpoint,
    destServiceName: Type.Optional(Type.String()),
    destServiceNamespace: Type.Optional(Type.String()),
    protocol: Type.String(),
    action: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
    reporter: Type.Union([Type.Literal('src'), Type.Literal('dst')]),
    bytesIn: Type.Integer({ minimum: 0 }),
    bytesOut: Type.Integer({ minimum: 0 }),
    packetsIn: Type.Integer({ minimum: 0 }),
    packetsOut: Type.Integer({ minimum: 0 }),
    flowCount: Type.Integer({ minimum: 0 }),
    policies: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)
export type NetworkFlow = Static<typeof NetworkFlow>

const ContainerState = Type.Object(
  {
    name: Type.String(),
    state: Type.Union([
      Type.Literal('waiting'),
      Type.Literal('running'),
      Type.Literal('terminated'),
      Type.Literal('unknown'),
    ]),
    ready: Type.Boolean(),
    restarts: Type.Integer({ minimum: 0 }),
    /** Why it is waiting or terminated: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error, ... */
    reason: Type.Optional(Type.String()),
    exitCode: Type.Optional(Type.Integer()),
    /** How the previous run ended: an `OOMKilled` here with restarts > 0 is an OOM kill loop. */
    lastTerminationReason: Type.Optional(Type.String()),
    lastExitCode: Type.Optional(Type.Integer()),
    lastTerminatedTs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)

const Condition = Type.Object(
  { type: Type.String(), status: Type.String(), reason: Type.Optional(Type.String()) },
  { additionalProperties: false },
)

/**
 * The observed state of a Pod or Node, recorded whenever it changes in a way that matters
 * (phase, container states and restarts, conditions, placement, ownership, service membership),
 * not on every status heartbeat. The envelope names the owning workload and serving service.
 */
export const ObjectState = Type.Object(
  {
    ...envelopeProperties,
    resource: ObjectRef,
    /** Pod phase (Pending, Running, Succeeded, Failed, Unknown); for a Node: Ready, NotReady or Unknown. */
    phase: Type.String(),
    reason: Type.Optional(
      Type.String({ description: 'e.g. Evicted for a pod, the Ready reason for a node' }),
    ),
    message: Type.Optional(Type.String()),
    deleted: Type.Boolean(),
    conditions: Type.Array(Condition),
    containers: Type.Array(ContainerState),
    /** The ownership chain, nearest first: ReplicaSet, then Deployment. */
    owners: Type.Array(ObjectRef),
    /** Services whose EndpointSlices list this pod. */
    services: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)
export type ObjectState = Static<typeof ObjectState>

/**
 * An alert another system raised (Alertmanager's webhook, version 4), kept as a signal so Argus
 * correlates it with what it sees itself. One record per alert and status change.
 */
export const ExternalAlert = Type.Object(
  {
    ...envelopeProperties,
    source: Type.String({ description: 'alertmanager' }),
    receiver: Type.String(),
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    fingerprint: Type.String(),
    alertname: Type.String(),
    severity: Type.String({ description: 'the severity label, or empty' }),
    labels: Attributes,
    annotations: Attributes,
    startsAt: Type.Integer({ minimum: 0 }),
    endsAt: Type.Optional(Type.Integer({ minimum: 0 })),
    generatorURL: Type.Optional(Type.String()),
    groupKey: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type ExternalAlert = Static<typeof ExternalAlert>
