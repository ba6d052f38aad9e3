import type { FastifyPluginAsync } from 'fastify'
import Type, { type Static } from 'typebox'
import type { LogLevel } from '../../core/index.js'
import type { LogRepository } from '../../storage/index.js'
import { parseTimeRange, timeRangeProperties } from '../time-range.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'] as const

const LogSearchQuery = Type.Object(
  {
    ...timeRangeProperties,
    cluster: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 253 })),
    pod: Type.Optional(Type.String({ maxLength: 253 })),
    container: Type.Optional(Type.String({ maxLength: 253 })),
    workload: Type.Optional(Type.String({ maxLength: 253 })),
    level: Type.Optional(
      Type.String({
        pattern: `^(${LEVELS.join('|')})(,(${LEVELS.join('|')}))*$`,
        description: 'comma-separated levels',
      }),
    ),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1000, description: 'case-insensitive text in the message' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
  },
  { additionalProperties: false },
)
type LogSearchQuery = Static<typeof LogSearchQuery>

const StoredLogSchema = Type.Object({
  ts: Type.Integer(),
  cluster: Type.String(),
  namespace: Type.String(),
  workloadKind: Type.String(),
  workloadName: Type.String(),
  pod: Type.String(),
  container: Type.String(),
  node: Type.String(),
  service: Type.String(),
  level: Type.String(),
  stream: Type.String(),
  source: Type.String(),
  templateId: Type.String(),
  message: Type.String(),
  attributes: Type.Record(Type.String(), Type.String()),
})

const LogSearchResponse = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  count: Type.Integer({ description: 'entries returned (at most `limit`)' }),
  logs: Type.Array(StoredLogSchema),
})

const HOUR_MS = 3_600_000

export function logRoutes(options: { logs: () => LogRepository }): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: LogSearchQuery }>(
      '/api/v1/logs',
      {
        schema: {
          tags: ['logs'],
          summary: 'Search stored log records by time range, entity and text',
          querystring: LogSearchQuery,
          response: { 200: LogSearchResponse },
        },
      },
      async (request) => {
        const query = request.query
        const { fromTs, toTs } = parseTimeRange(query, HOUR_MS)
        const logs = await options.logs().search({
          fromTs,
          toTs,
          cluster: query.cluster,
          namespace: query.namespace,
          pod: query.pod,
          container: query.container,
          workload: query.workload,
          levels: query.level?.split(',') as LogLevel[] | undefined,
          text: query.q,
          limit: query.limit,
          order: query.order,
        })
        return { from: fromTs, to: toTs, count: logs.length, logs }
      },
    )
  }
}
