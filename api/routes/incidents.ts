import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import { ArgusError, Incident, RootCause } from '../../core/index.js'
import type { IncidentRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const IncidentQuery = Type.Object(
  {
    ...timeRangeProperties,
    cluster: Type.Optional(Type.String({ maxLength: 253 })),
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
    severity: Type.Optional(
      Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
)
type IncidentQuery = Static<typeof IncidentQuery>

const IncidentParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })

export function incidentRoutes(options: { incidents: () => IncidentRepository }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: IncidentQuery }>(
      '/api/v1/incidents',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'Incidents opened in a time range (default: the last 24 hours), newest first, at their latest version',
          querystring: IncidentQuery,
          response: {
            200: Type.Object({ from: Type.Integer(), to: Type.Integer(), incidents: Type.Array(Incident) }),
          },
        },
      },
      async (request) => {
        const query = request.query
        const { fromTs, toTs } = parseTimeRange(query, 24 * 3_600_000)
        const incidents = await options.incidents().list({
          fromTs,
          toTs,
          cluster: query.cluster,
          status: query.status,
          severity: query.severity,
          limit: query.limit,
        })
        return { from: fromTs, to: toTs, incidents }
      },
    )

    app.get<{ Params: Static<typeof IncidentParams> }>(
      '/api/v1/incidents/:id',
      {
        schema: {
          tags: ['incidents'],
          summary:
            'One incident with its latest root-cause ranking: best first, each with a score, an explanation and evidence',
          params: IncidentParams,
          response: { 200: Type.Object({ incident: Incident, rootCauses: Type.Array(RootCause) }) },
        },
      },
      async (request) => {
        const found = await options.incidents().get(request.params.id)
        if (!found) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no incident ${request.params.id}`)
        return found
      },
    )
  }
}
