import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import Type, { type Static } from 'typebox'
import type { Registry } from '../../core/index.js'

export interface ReadinessCheck {
  name: string
  check(): Promise<boolean>
}

const CheckResult = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
})

/** Prometheus's metric name rule. */
const METRIC_NAME = '^[a-zA-Z_:][a-zA-Z0-9_:]*$'

const MetricsQuery = Type.Object(
  {
    name: Type.Optional(
      Type.Array(Type.String({ pattern: METRIC_NAME, maxLength: 200 }), {
        maxItems: 100,
        description:
          'Only these metrics (repeat the parameter for several); names not registered are left out',
      }),
    ),
  },
  { additionalProperties: false },
)

/** Liveness (`/healthz`: the process answers), readiness (`/readyz`: dependencies answer) and `/metrics`. */
export function healthRoutes(options: {
  metrics: Registry
  checks: readonly ReadinessCheck[]
  isShuttingDown: () => boolean
}): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], response: { 200: CheckResult } } }, async () => ({
      status: 'ok',
    }))

    app.get(
      '/readyz',
      { schema: { tags: ['health'], response: { 200: CheckResult, 503: CheckResult } } },
      async (_request, reply) => {
        const results: Record<string, boolean> = { accepting: !options.isShuttingDown() }
        await Promise.all(
          options.checks.map(async (c) => (results[c.name] = await c.check().catch(() => false))),
        )
        const ready = Object.values(results).every(Boolean)
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results })
      },
    )

    // `name` picks metrics, so a script polling one counter does not have every collector run and
    // every histogram rendered (a full scrape costs the server a few ms of CPU).
    app.get(
      '/metrics',
      { schema: { tags: ['health'], querystring: MetricsQuery } },
      async (request: FastifyRequest<{ Querystring: Static<typeof MetricsQuery> }>, reply) => {
        const names = request.query.name
        const registry = options.metrics
        const text = names
          ? (
              await Promise.all(
                [...new Set(names)]
                  .filter((name) => registry.getSingleMetric(name) !== undefined)
                  .map((name) => registry.getSingleMetricAsString(name)),
              )
            )
              .map((metric) => `${metric}\n`)
              .join('')
          : await registry.metrics()
        return reply.header('content-type', registry.contentType).send(text)
      },
    )
  }
}
