import type { FastifyInstance } from 'fastify'
import type { ParsedBody, RecordProblem } from './fluent-http-body.js'
import type { IntakeResult } from './raw-intake.js'

export interface IngestResponse {
  status: number
  body: { accepted: number; rejected?: RecordProblem[]; error?: { code: string; message: string } }
}

const MAX_REPORTED_PROBLEMS = 100

/** Makes this plugin context hand bodies over as bytes, up to the limit: the receivers parse them. */
export function takeRawBodies(app: FastifyInstance, bodyLimitBytes: number): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: bodyLimitBytes }, (_request, body, done) =>
    done(null, body),
  )
}

/** What an answer needs of a parsed body, without its records: its problems and where records stood. */
export interface BodyLayout {
  problems: readonly RecordProblem[]
  /** Where the body's `record`-th record (of those parsed) stood in it: array index or line. */
  positionOf(record: number): number
}

/**
 * The layout of a parsed body. A receiver keeps this, not the body, while its records are
 * published: records kept that long are copied and promoted by the young-generation collector.
 */
export function layoutOf(parsed: ParsedBody): BodyLayout {
  const { records, problems } = parsed
  let inOrder = true
  for (let i = 0; i < records.length && inOrder; i++) inOrder = records[i]?.index === i
  if (inOrder) return { problems, positionOf: (record) => record }
  const positions = records.map((r) => r.index)
  return { problems, positionOf: (record) => positions[record] ?? record }
}

/**
 * 202 when every record was taken; otherwise 400 naming each rejected record by its position in
 * the body (array index or line), with the valid records kept. Shippers cannot split a batch, so
 * refusing it whole would lose the good records.
 */
export function partialAnswer(body: BodyLayout, result: IntakeResult, noun: string): IngestResponse {
  const accepted = result.accepted
  const problems = [
    ...body.problems,
    ...result.rejected.map((r) => ({ index: body.positionOf(r.index), reason: r.reason })),
  ].sort((a, b) => a.index - b.index)
  if (problems.length === 0) return { status: 202, body: { accepted } }
  return {
    status: 400,
    body: {
      accepted,
      rejected: problems.slice(0, MAX_REPORTED_PROBLEMS),
      error: {
        code: 'ARGUS_ERR_BAD_INPUT',
        message: `${problems.length} of ${problems.length + accepted} ${noun} rejected (valid ${noun} were stored); first: #${problems[0]?.index}: ${problems[0]?.reason}`,
      },
    },
  }
}
