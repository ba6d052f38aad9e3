import type { FastifyPluginAsync } from 'fastify'
import { ArgusError, counter, type Registry } from '../core/index.js'
import { decodeBody, parseFluentBody } from './fluent-http-body.js'
import { layoutOf, partialAnswer, takeRawBodies } from './http-answers.js'
import type { RawIntake } from './raw-intake.js'

export interface CalicoHttpSourceOptions {
  intake: RawIntake
  metrics: Registry
  bodyLimitBytes: number
}

/**
 * Calico flow logs over HTTP (`POST /ingest/flows`): a JSON array or JSON lines (one flow log
 * record each, as Calico writes them to `flows.log`), optionally gzipped; what a fluent-bit tailing
 * `/var/log/calico/flowlogs/flows.log` with an http output sends. Valid records are kept; the
 * rejected ones come back with their positions in a 400.
 */
export function calicoHttpSource(options: CalicoHttpSourceOptions): FastifyPluginAsync {
  const malformed = counter(
    options.metrics,
    'argus_flow_requests_rejected_total',
    'Flow log requests that were not JSON',
  )
  return async (app) => {
    takeRawBodies(app, options.bodyLimitBytes)
    app.post('/ingest/flows', async (request, reply) => {
      const body = request.body
      if (!Buffer.isBuffer(body) || body.length === 0) {
        malformed.inc()
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'request body is empty')
      }
      let parsed: ReturnType<typeof parseFluentBody>
      try {
        parsed = parseFluentBody(
          decodeBody(body, request.headers['content-encoding'], options.bodyLimitBytes),
        )
      } catch (error) {
        malformed.inc()
        throw error
      }
      const result = await options.intake.calicoFlows(parsed.records.map((r) => r.value))
      const response = partialAnswer(layoutOf(parsed), result, 'flow records')
      return reply.code(response.status).send(response.body)
    })
  }
}
