import type { FastifyPluginAsync } from 'fastify'
import { ArgusError, counter, type Registry } from '../core/index.js'
import { readAlertmanagerGroup } from './alertmanager-alert.js'
import type { RawIntake } from './raw-intake.js'

export interface AlertmanagerSourceOptions {
  intake: RawIntake
  metrics: Registry
}

/**
 * Alertmanager's webhook receiver (`POST /ingest/alertmanager`, payload version 4): point a
 * `webhook_configs` url here and existing alerts become signals Argus correlates. Alertmanager
 * retries 5xx, not 4xx: a malformed payload gets 400, overload 503.
 */
export function alertmanagerSource(options: AlertmanagerSourceOptions): FastifyPluginAsync {
  const rejected = counter(
    options.metrics,
    'argus_alertmanager_rejected_total',
    'Alertmanager webhook payloads refused',
  )
  return async (app) => {
    // Bodies are parsed here, so a payload that is not JSON is refused and counted like any other.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
    app.post('/ingest/alertmanager', async (request, reply) => {
      let body: unknown
      try {
        body = JSON.parse(typeof request.body === 'string' ? request.body : '')
      } catch (error) {
        rejected.inc()
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', `payload is not JSON: ${(error as Error).message}`)
      }
      const group = readAlertmanagerGroup(body)
      if (!group.ok) {
        rejected.inc()
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', group.reason)
      }
      const result = await options.intake.alertmanagerAlerts(group.record)
      if (result.rejected.length > 0) {
        return reply.code(400).send({
          accepted: result.accepted,
          rejected: result.rejected.slice(0, 100),
          error: {
            code: 'ARGUS_ERR_BAD_INPUT',
            message: `${result.rejected.length} alerts rejected (valid ones were stored); first: #${result.rejected[0]?.index}: ${result.rejected[0]?.reason}`,
          },
        })
      }
      return reply.code(200).send({ accepted: result.accepted })
    })
  }
}
