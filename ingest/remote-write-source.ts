import type { FastifyPluginAsync } from 'fastify'
import { ArgusError, counter, isArgusError, type Registry } from '../core/index.js'
import { takeRawBodies } from './http-answers.js'
import type { RawIntake } from './raw-intake.js'

export interface RemoteWriteSourceOptions {
  intake: RawIntake
  metrics: Registry
  bodyLimitBytes: number
}

/**
 * Prometheus `remote_write` receiver (`POST /api/v1/write`, protobuf + snappy, protocol 1.0), so an
 * existing Prometheus forwards to Argus with one `remote_write: - url:` entry. Answers 204 when the
 * samples are on the bus; 400 for a body that is not a WriteRequest (Prometheus does not retry a
 * 4xx, so a bad batch cannot block the queue); 503 under overload, which Prometheus retries.
 */
export function remoteWriteSource(options: RemoteWriteSourceOptions): FastifyPluginAsync {
  const rejected = counter(
    options.metrics,
    'argus_remote_write_rejected_total',
    'remote_write requests refused as malformed',
  )
  const skipped = counter(
    options.metrics,
    'argus_remote_write_skipped_total',
    'remote_write native histograms skipped (not supported yet)',
  )
  return async (app) => {
    takeRawBodies(app, options.bodyLimitBytes)
    app.post('/api/v1/write', async (request, reply) => {
      const body = request.body
      if (!Buffer.isBuffer(body) || body.length === 0) {
        rejected.inc()
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'request body is empty')
      }
      let result: Awaited<ReturnType<RawIntake['remoteWrite']>>
      try {
        result = await options.intake.remoteWrite(body, 4 * options.bodyLimitBytes)
      } catch (error) {
        if (isArgusError(error) && error.code === 'ARGUS_ERR_BAD_INPUT') rejected.inc()
        throw error
      }
      if (result.skipped > 0) skipped.inc(result.skipped)
      return reply.code(204).send()
    })
  }
}
