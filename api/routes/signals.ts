import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import type { SignalCounts } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const RangeQuery = Type.Object(
  {
    ...timeRangeProperties,
  },
  { additionalProperties: false },
)
type RangeQuery = Static<typeof RangeQuery>

const CountsResponse = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  counts: Type.Object({
    logs: Type.Integer(),
    metrics: Type.Integer(),
    kubeEvents: Type.Integer(),
    resourceChanges: Type.Integer(),
    objectStates: Type.Integer(),
    externalAlerts: Type.Integer(),
    flows: Type.Integer(),
  }),
})

export function signalRoutes(options: {
  countSignals: (range: { fromTs: number; toTs: number }) => Promise<SignalCounts>
}): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: RangeQuery }>(
      '/api/v1/signals/counts',
      {
        schema: {
          tags: ['signals'],
          summary: 'How many records of each signal kind were stored in a time range',
          querystring: RangeQuery,
          response: { 200: CountsResponse },
        },
      },
      async (request) => {
        const { fromTs, toTs } = parseTimeRange(request.query, 3_600_000)
        return { from: fromTs, to: toTs, counts: await options.countSignals({ fromTs, toTs }) }
      },
    )
  }
}
