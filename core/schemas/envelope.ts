import Type, { type Static, type TProperties } from 'typebox'

/** Attribute maps are flat string maps: they become ClickHouse `Map(String, String)` columns. */
export const Attributes = Type.Record(Type.String(), Type.String())

export const WorkloadRef = Type.Object(
  {
    kind: Type.String({ description: 'Deployment, StatefulSet, DaemonSet, Job, ...' }),
    name: Type.String(),
  },
  { additionalProperties: false },
)
export type WorkloadRef = Static<typeof WorkloadRef>

/**
 * The common envelope every signal and finding carries: when, and which entity in which cluster.
 * Only `ts` and `cluster` are always known; the rest depends on the source.
 */
export const envelopeProperties = {
  ts: Type.Integer({ minimum: 0, description: 'event time, Unix epoch milliseconds' }),
  cluster: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  workload: Type.Optional(WorkloadRef),
  pod: Type.Optional(Type.String()),
  container: Type.Optional(Type.String()),
  node: Type.Optional(Type.String()),
  service: Type.Optional(Type.String()),
  attributes: Type.Optional(Attributes),
} satisfies TProperties

export const Envelope = Type.Object(envelopeProperties, { additionalProperties: false })
export type Envelope = Static<typeof Envelope>

/** Reference to any entity Argus reasons about (a service, workload, pod, node or change). */
export const EntityRef = Type.Object(
  {
    kind: Type.String({ description: 'Service, Deployment, Pod, Node, Change, ...' }),
    name: Type.String(),
    namespace: Type.Optional(Type.String()),
    cluster: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type EntityRef = Static<typeof EntityRef>
