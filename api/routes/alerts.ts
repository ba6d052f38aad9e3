import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import { Alert, AlertDelivery, AlertDeliveryStatus, ArgusError, Silence } from '../../core/index.js'
import type { AlertRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const AlertQuery = Type.Object(
  {
    ...timeRangeProperties,
    status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
)

const DeliveryQuery = Type.Object(
  {
    ...timeRangeProperties,
    receiver: Type.Optional(Type.String({ maxLength: 253 })),
    status: Type.Optional(AlertDeliveryStatus),
    incident: Type.Optional(
      Type.String({ maxLength: 100, description: 'only deliveries telling of this incident' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
)

export const SilenceRequest = Type.Object(
  {
    matchers: Type.Array(Type.String({ minLength: 1, maxLength: 1_000 }), {
      minItems: 1,
      maxItems: 50,
      description: 'Alertmanager matchers, e.g. namespace="shop", severity=~"warning|info"',
    }),
    startsAt: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds; default now' }),
    ),
    endsAt: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds' })),
    duration: Type.Optional(
      Type.String({ pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$', description: 'instead of endsAt: 2h, 30m' }),
    ),
    createdBy: Type.String({ minLength: 1, maxLength: 200 }),
    comment: Type.String({ minLength: 1, maxLength: 2_000, description: 'why; a ticket link helps' }),
  },
  { additionalProperties: false },
)
export type SilenceRequest = Static<typeof SilenceRequest>

const SilenceParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })

export interface SilenceService {
  /** Validates, stores and applies a new silence everywhere; bad input is an ARGUS_ERR_BAD_INPUT. */
  create(request: SilenceRequest): Promise<Silence>
  /** Ends a silence now; an unknown id is ARGUS_ERR_NOT_FOUND. */
  expire(id: string): Promise<Silence>
}

/** The alerts Argus raised, their delivery log, and silences (Alertmanager's API, in Argus's shapes). */
export function alertRoutes(options: {
  alerts: () => AlertRepository
  silences: SilenceService
}): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Static<typeof AlertQuery> }>(
      '/api/v1/alerts',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'Alerts Argus raised from incidents (default: updated in the last 24 hours), at their latest state',
          querystring: AlertQuery,
          response: {
            200: Type.Object({ from: Type.Integer(), to: Type.Integer(), alerts: Type.Array(Alert) }),
          },
        },
      },
      async (request) => {
        const { fromTs, toTs } = parseTimeRange(request.query, 24 * 3_600_000)
        const alerts = await options
          .alerts()
          .alerts({ fromTs, toTs, status: request.query.status, limit: request.query.limit })
        return { from: fromTs, to: toTs, alerts }
      },
    )

    app.get<{ Querystring: Static<typeof DeliveryQuery> }>(
      '/api/v1/alerts/deliveries',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'The delivery log: each notification outcome (delivered, dead_letter with its reason, duplicate, superseded, dropped), newest first',
          querystring: DeliveryQuery,
          response: {
            200: Type.Object({
              from: Type.Integer(),
              to: Type.Integer(),
              deliveries: Type.Array(AlertDelivery),
            }),
          },
        },
      },
      async (request) => {
        const query = request.query
        const { fromTs, toTs } = parseTimeRange(query, 24 * 3_600_000)
        const deliveries = await options.alerts().deliveries({
          fromTs,
          toTs,
          receiver: query.receiver,
          status: query.status,
          incidentId: query.incident,
          limit: query.limit,
        })
        return { from: fromTs, to: toTs, deliveries }
      },
    )

    app.get(
      '/api/v1/silences',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Silences, active, pending and expired (kept 5 days), newest first',
          response: { 200: Type.Object({ silences: Type.Array(Silence) }) },
        },
      },
      async () => ({ silences: await options.alerts().silences() }),
    )

    app.post<{ Body: SilenceRequest }>(
      '/api/v1/silences',
      {
        schema: {
          tags: ['alerts'],
          summary:
            'Creates a silence: alerts matching every matcher are not notified between startsAt and endsAt',
          body: SilenceRequest,
          response: { 201: Silence },
        },
      },
      async (request, reply) => {
        const silence = await options.silences.create(request.body)
        return reply.code(201).send(silence)
      },
    )

    app.delete<{ Params: Static<typeof SilenceParams> }>(
      '/api/v1/silences/:id',
      {
        schema: {
          tags: ['alerts'],
          summary: 'Expires a silence now (it stays listed as expired)',
          params: SilenceParams,
          response: { 200: Silence },
        },
      },
      async (request) => {
        const found = await options.alerts().silence(request.params.id)
        if (!found) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no silence ${request.params.id}`)
        return options.silences.expire(request.params.id)
      },
    )
  }
}
