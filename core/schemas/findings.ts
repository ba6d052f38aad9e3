import Type, { type Static } from 'typebox'
import { Attributes, EntityRef, envelopeProperties } from './envelope.js'

export const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])
export type Severity = Static<typeof Severity>

export const SignalKind = Type.Union([
  Type.Literal('metric'),
  Type.Literal('log'),
  Type.Literal('event'),
  Type.Literal('flow'),
  Type.Literal('change'),
  Type.Literal('alert'),
])
export type SignalKind = Static<typeof SignalKind>

/** One piece of evidence: what was seen, when, and how far it was from normal. */
export const Evidence = Type.Object(
  {
    signal: SignalKind,
    ts: Type.Integer({ minimum: 0 }),
    description: Type.String(),
    metric: Type.Optional(Type.String()),
    observed: Type.Optional(Type.Number()),
    expected: Type.Optional(Type.Number()),
    baselineFromTs: Type.Optional(Type.Integer({ minimum: 0 })),
    baselineToTs: Type.Optional(Type.Integer({ minimum: 0 })),
    refId: Type.Optional(Type.String({ description: 'id of the anomaly, change or event this points to' })),
  },
  { additionalProperties: false },
)
export type Evidence = Static<typeof Evidence>

export const Anomaly = Type.Object(
  {
    ...envelopeProperties,
    id: Type.String(),
    entity: EntityRef,
    signal: SignalKind,
    kind: Type.String({
      description:
        'spike, level_shift, novel_range, spike_rate, trend, variance, seasonal, new_template, error_surge, ...',
    }),
    score: Type.Number({ minimum: 0, maximum: 1 }),
    severity: Severity,
    summary: Type.String(),
    evidence: Type.Array(Evidence),
  },
  { additionalProperties: false },
)
export type Anomaly = Static<typeof Anomaly>

/**
 * A learned model's short-term forecast that a workload's load or resource use is about to rise:
 * published by the metric analyzer so an autoscaler can add capacity before saturation shows.
 */
export const WorkloadForecast = Type.Object(
  {
    ...envelopeProperties,
    indicator: Type.String({ description: 'cpu_cores or request_rate' }),
    current: Type.Number({ description: 'the indicator now' }),
    predicted: Type.Number({ description: 'the highest value forecast within the horizon' }),
    horizonMs: Type.Integer({ minimum: 0, description: 'how far ahead the forecast looks' }),
    modelVersion: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
)
export type WorkloadForecast = Static<typeof WorkloadForecast>

export const IncidentStatus = Type.Union([Type.Literal('open'), Type.Literal('resolved')])

export const Incident = Type.Object(
  {
    ...envelopeProperties,
    id: Type.String(),
    status: IncidentStatus,
    severity: Severity,
    title: Type.String(),
    openedAt: Type.Integer({ minimum: 0 }),
    resolvedAt: Type.Optional(Type.Integer({ minimum: 0 })),
    anomalyIds: Type.Array(Type.String()),
    entities: Type.Array(EntityRef),
    /** Incidents are updated in place; the highest version wins. */
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
)
export type Incident = Static<typeof Incident>

export const RootCause = Type.Object(
  {
    ...envelopeProperties,
    incidentId: Type.String(),
    rank: Type.Integer({ minimum: 1 }),
    entity: EntityRef,
    score: Type.Number({ minimum: 0, maximum: 1 }),
    explanation: Type.String(),
    evidence: Type.Array(Evidence),
  },
  { additionalProperties: false },
)
export type RootCause = Static<typeof RootCause>

export const Alert = Type.Object(
  {
    ...envelopeProperties,
    fingerprint: Type.String(),
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    labels: Attributes,
    annotations: Attributes,
    startsAt: Type.Integer({ minimum: 0 }),
    endsAt: Type.Optional(Type.Integer({ minimum: 0 })),
    incidentId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type Alert = Static<typeof Alert>

export const AlertDeliveryStatus = Type.Union([
  Type.Literal('delivered'),
  Type.Literal('dead_letter'),
  Type.Literal('duplicate'),
  Type.Literal('superseded'),
  Type.Literal('dropped'),
])

/** One delivery of a notification to a chat receiver: the delivery log. */
export const AlertDelivery = Type.Object(
  {
    ...envelopeProperties,
    receiver: Type.String(),
    groupKey: Type.String(),
    sequence: Type.Integer({ minimum: 0 }),
    idempotencyKey: Type.String(),
    status: AlertDeliveryStatus,
    notificationStatus: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    attempts: Type.Integer({ minimum: 0 }),
    reason: Type.Optional(Type.String({ description: 'why it was not delivered' })),
    statusCode: Type.Optional(Type.Integer()),
    fingerprints: Type.Array(Type.String()),
    incidentIds: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)
export type AlertDelivery = Static<typeof AlertDelivery>

/** A silence as stored and shared between processes; `updatedAt` orders its versions (expiry is an update). */
export const Silence = Type.Object(
  {
    id: Type.String(),
    matchers: Type.Array(Type.String(), { minItems: 1 }),
    startsAt: Type.Integer({ minimum: 0 }),
    endsAt: Type.Integer({ minimum: 0 }),
    createdBy: Type.String(),
    comment: Type.String(),
    updatedAt: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
)
export type Silence = Static<typeof Silence>

export const ActionKind = Type.Union([
  Type.Literal('scale'),
  Type.Literal('restart'),
  Type.Literal('delete_pod'),
  Type.Literal('rollback'),
  Type.Literal('patch_hpa'),
  Type.Literal('raise_memory_limit'),
  Type.Literal('notify'),
  Type.Literal('request_approval'),
])
export type ActionKind = Static<typeof ActionKind>

export const ActionStatus = Type.Union([
  Type.Literal('proposed'),
  Type.Literal('pending_approval'),
  Type.Literal('dry_run'),
  Type.Literal('executed'),
  Type.Literal('skipped'),
  Type.Literal('failed'),
  Type.Literal('rejected'),
])

export const Action = Type.Object(
  {
    ...envelopeProperties,
    id: Type.String(),
    incidentId: Type.Optional(Type.String()),
    policy: Type.Optional(Type.String()),
    kind: ActionKind,
    target: EntityRef,
    params: Attributes,
    status: ActionStatus,
    reason: Type.String({ description: 'why it ran, or why it was skipped' }),
    actor: Type.Optional(Type.String({ description: 'who approved or rejected it' })),
  },
  { additionalProperties: false },
)
export type Action = Static<typeof Action>

/** A person's say on remediation through the API, published so every remediator hears it. */
export const RemediationCommand = Type.Union([
  Type.Object(
    {
      type: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
      actionId: Type.String({ minLength: 1 }),
      by: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('kill_switch'), on: Type.Boolean(), by: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
])
export type RemediationCommand = Static<typeof RemediationCommand>
