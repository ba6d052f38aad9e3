import type { FastifyPluginAsync } from 'fastify'
import { ArgusError, counter, type Registry } from '../core/index.js'
import { takeRawBodies } from './http-answers.js'
import type { RawIntake } from './raw-intake.js'
import { decodeRemoteWrite } from './remote-write.js'

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
      let decoded: ReturnType<typeof decodeRemoteWrite>
      try {
        decoded = decodeRemoteWrite(body, 4 * options.bodyLimitBytes)
      } catch (error) {
        rejected.inc()
        throw error
      }
      if (decoded.skipped > 0) skipped.inc(decoded.skipped)
      await options.intake.prometheusSamples(decoded.samples)
      return reply.code(204).send()
    })
  }
}
