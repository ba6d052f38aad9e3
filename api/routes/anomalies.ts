import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import { Anomaly } from '../../core/index.js'
import type { AnomalyRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const AnomalyQuery = Type.Object(
  {
    ...timeRangeProperties,
    cluster: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 253 })),
    kind: Type.Optional(Type.String({ maxLength: 100, description: 'oom_killed, crash_loop, spike, ...' })),
    entity: Type.Optional(Type.String({ maxLength: 253, description: 'entity name: a pod, node, workload' })),
    minScore: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  },
  { additionalProperties: false },
)
type AnomalyQuery = Static<typeof AnomalyQuery>

export function anomalyRoutes(options: { anomalies: () => AnomalyRepository }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: AnomalyQuery }>(
      '/api/v1/anomalies',
      {
        schema: {
          tags: ['anomalies'],
          summary: 'Anomalies found in a time range, newest first, with their evidence',
          querystring: AnomalyQuery,
          response: {
            200: Type.Object({ from: Type.Integer(), to: Type.Integer(), anomalies: Type.Array(Anomaly) }),
          },
        },
      },
      async (request) => {
        const query = request.query
        const { fromTs, toTs } = parseTimeRange(query, 3_600_000)
        const anomalies = await options.anomalies().list({
          fromTs,
          toTs,
          cluster: query.cluster,
          namespace: query.namespace,
          kind: query.kind,
          entityName: query.entity,
          minScore: query.minScore,
          limit: query.limit,
        })
        return { from: fromTs, to: toTs, anomalies }
      },
    )
  }
}
