import { createHash } from 'node:crypto'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ArgusError, counter, type Registry } from '../core/index.js'
import { UnconfirmedPublish } from '../bus/index.js'
import {
  decodeBody,
  inflateBody,
  parseFluentBody,
  parseFluentMsgpack,
  type ParsedBody,
} from './fluent-http-body.js'
import type { IntakeResult, RawIntake } from './raw-intake.js'
import { ResendMemory } from './resend-memory.js'
import {
  layoutOf,
  partialAnswer,
  takeRawBodies,
  type BodyLayout,
  type IngestResponse,
} from './http-answers.js'

export interface FluentHttpSourceOptions {
  /** Normalises and publishes; it waits for bus room and fails with a 503 the shippers retry. */
  intake: RawIntake
  metrics: Registry
  bodyLimitBytes: number
  /** How long a resend waits for its first attempt's unconfirmed publish to settle before a 503. */
  resendWaitMs: number
  /** Route prefix; fluentd's `endpoint` and fluent-bit's `uri` point here. */
  path?: string
}

function sourceName(request: FastifyRequest): string {
  const agent = String(request.headers['user-agent'] ?? '').toLowerCase()
  if (agent.includes('fluent-bit')) return 'fluent-bit-http'
  if (agent.includes('fluentd') || agent.includes('fluent')) return 'fluentd-http'
  return 'http'
}

/**
 * HTTP log intake for fluentd `out_http` and fluent-bit `http` (JSON array, NDJSON, gzip).
 *
 * Partial acceptance: valid records are kept and invalid ones reported with their positions in a
 * 400 answer. fluentd treats a 4xx as unrecoverable and does not resend; current fluent-bit does
 * not retry 4xx either; an older fluent-bit that resends the same chunk gets the same answer and
 * its good records are not stored twice. Rejecting whole batches instead would lose good records,
 * since neither shipper can split a chunk. Overload answers 503, which both retry.
 *
 * A 503 for a publish the bus did not confirm in time (Kafka may still land it) is remembered: the
 * resend of that same body waits for the first attempt's outcome and, if it landed, gets its answer
 * instead of storing the records twice. An identical body sent again on purpose after such a 503
 * is indistinguishable from a resend, and is treated as one.
 */
export function fluentHttpSource(options: FluentHttpSourceOptions): FastifyPluginAsync {
  const repeats = counter(
    options.metrics,
    'argus_ingest_repeated_requests_total',
    'Resent requests answered from memory: partly rejected ones, and ones whose unconfirmed publish landed',
  )
  const malformed = counter(
    options.metrics,
    'argus_ingest_malformed_total',
    'Log request bodies that could not be read at all, and records cut out of readable ones',
    ['what'],
  )
  const memory = new ResendMemory<IngestResponse>(1024)
  const path = options.path ?? '/ingest/logs'

  return async (app) => {
    // This plugin's context parses bodies itself: NDJSON needs per-line handling and gzip needs a size cap.
    takeRawBodies(app, options.bodyLimitBytes)

    /**
     * Parses a body and hands its records to the intake. Not async: what waits for the publish is
     * the body's layout, not its records (see layoutOf).
     */
    const submitBody = (
      request: FastifyRequest<{ Params: { tag?: string } }>,
      body: Buffer,
      contentType: string,
      encoding: string | undefined,
    ): { published: Promise<IntakeResult>; layout: BodyLayout } => {
      let parsed: ParsedBody
      try {
        parsed = /msgpack/i.test(contentType)
          ? parseFluentMsgpack(inflateBody(body, encoding, options.bodyLimitBytes))
          : parseFluentBody(decodeBody(body, encoding, options.bodyLimitBytes))
      } catch (error) {
        malformed.inc({ what: 'body' })
        throw error
      }
      if (parsed.problems.length > 0) malformed.inc({ what: 'record' }, parsed.problems.length)
      const tag = request.params.tag
      return {
        published: options.intake.fluentRecords(
          parsed.records.map((r) => r.value),
          sourceName(request),
          tag ? { 'fluent.tag': tag } : undefined,
        ),
        layout: layoutOf(parsed),
      }
    }

    const handler = async (
      request: FastifyRequest<{ Params: { tag?: string } }>,
    ): Promise<IngestResponse> => {
      const contentType = String(request.headers['content-type'] ?? '')
      const body = request.body
      if (!Buffer.isBuffer(body)) throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'request body is empty')
      const encoding = request.headers['content-encoding']
      // Hashing a large body costs; only do it when there is a remembered answer to compare with.
      let digestMemo: string | undefined
      const digest = (): string =>
        (digestMemo ??= createHash('sha1')
          .update(body)
          .update(String(encoding))
          .update(request.params.tag ?? '')
          .digest('hex'))
      if (!memory.empty) {
        const recalled = await memory.recall(digest(), options.resendWaitMs)
        if (recalled && 'answer' in recalled) {
          repeats.inc()
          return recalled.answer
        }
        if (recalled)
          throw new ArgusError(
            'ARGUS_ERR_PUBLISH_UNCONFIRMED',
            'the first attempt of this request is still unconfirmed; resend it later',
            { retriable: true },
          )
      }

      const submitted = submitBody(request, body, contentType, encoding)
      let result: IntakeResult
      try {
        result = await submitted.published
      } catch (error) {
        // It may still land: remember what a resend should then get instead of a second copy.
        if (error instanceof UnconfirmedPublish) {
          const outcome = (error as UnconfirmedPublish<IntakeResult>).outcome // the intake's contract
          memory.rememberPending(
            digest(),
            outcome.then((late) => late && partialAnswer(submitted.layout, late, 'records')),
          )
        }
        throw error
      }
      const response = partialAnswer(submitted.layout, result, 'records')
      if (response.status !== 202) memory.remember(digest(), response)
      return response
    }

    for (const route of [path, `${path}/:tag`]) {
      app.post<{ Params: { tag?: string } }>(route, async (request, reply) => {
        const response = await handler(request)
        return reply.code(response.status).send(response.body)
      })
    }
  }
}
