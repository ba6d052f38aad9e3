import { createHash } from 'node:crypto'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ArgusError, counter, type Registry } from '../core/index.js'
import { decodeBody, parseFluentBody, type RecordProblem } from './fluent-http-body.js'
import type { RawIntake } from './raw-intake.js'

export interface FluentHttpSourceOptions {
  /** Normalises and publishes; it waits for bus room and fails with a 503 the shippers retry. */
  intake: RawIntake
  metrics: Registry
  bodyLimitBytes: number
  /** Route prefix; fluentd's `endpoint` and fluent-bit's `uri` point here. */
  path?: string
}

interface IngestResponse {
  status: number
  body: { accepted: number; rejected?: RecordProblem[]; error?: { code: string; message: string } }
}

/** Answers for recent partly rejected requests, so a shipper that retries one does not store its good records twice. */
class RecentResponses {
  private readonly entries = new Map<string, IngestResponse>()
  constructor(private readonly capacity: number) {}
  get(key: string): IngestResponse | undefined {
    return this.entries.get(key)
  }
  set(key: string, value: IngestResponse): void {
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string)
  }
  get empty(): boolean {
    return this.entries.size === 0
  }
}

const MAX_REPORTED_PROBLEMS = 100

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
 */
export function fluentHttpSource(options: FluentHttpSourceOptions): FastifyPluginAsync {
  const repeats = counter(
    options.metrics,
    'argus_ingest_repeated_requests_total',
    'Resent partly rejected requests answered from memory',
  )
  const recent = new RecentResponses(1024)
  const path = options.path ?? '/ingest/logs'

  return async (app) => {
    // This plugin's context parses bodies itself: NDJSON needs per-line handling and gzip needs a size cap.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes },
      (_request, body, done) => {
        done(null, body)
      },
    )

    const handler = async (
      request: FastifyRequest<{ Params: { tag?: string } }>,
    ): Promise<IngestResponse> => {
      const contentType = String(request.headers['content-type'] ?? '')
      if (/msgpack/i.test(contentType)) {
        throw new ArgusError(
          'ARGUS_ERR_BAD_INPUT',
          'application/msgpack is not accepted on this endpoint; send json or ndjson',
          {
            details: { status: 415 },
          },
        )
      }
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
      const seen = recent.empty ? undefined : recent.get(digest())
      if (seen) {
        repeats.inc()
        return seen
      }

      const parsed = parseFluentBody(decodeBody(body, encoding, options.bodyLimitBytes))
      const tag = request.params.tag
      const result = await options.intake.fluentRecords(
        parsed.records.map((r) => r.value),
        sourceName(request),
        tag ? { 'fluent.tag': tag } : undefined,
      )
      const accepted = result.accepted
      // Report rejected records by their position in the body (array index or NDJSON line).
      const problems = [
        ...parsed.problems,
        ...result.rejected.map((r) => ({
          index: parsed.records[r.index]?.index ?? r.index,
          reason: r.reason,
        })),
      ].sort((a, b) => a.index - b.index)
      if (problems.length === 0) return { status: 202, body: { accepted } }

      const response: IngestResponse = {
        status: 400,
        body: {
          accepted,
          rejected: problems.slice(0, MAX_REPORTED_PROBLEMS),
          error: {
            code: 'ARGUS_ERR_BAD_INPUT',
            message: `${problems.length} of ${problems.length + accepted} records rejected (valid records were stored); first: #${problems[0]?.index}: ${problems[0]?.reason}`,
          },
        },
      }
      recent.set(digest(), response)
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
