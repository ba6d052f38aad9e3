import type { FastifyPluginAsync } from 'fastify'
import Type from 'typebox'
import type { Registry } from '../../core/index.js'

export interface ReadinessCheck {
  name: string
  check(): Promise<boolean>
}

const CheckResult = Type.Object({
  status: Type.String(),
  checks: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
})

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

    app.get('/metrics', { schema: { tags: ['health'] } }, async (_request, reply) => {
      return reply.header('content-type', options.metrics.contentType).send(await options.metrics.metrics())
    })
  }
}
