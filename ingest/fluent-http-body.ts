import { gunzipSync } from 'node:zlib'
import { decodeMulti } from '@msgpack/msgpack'
import { ArgusError, errorMessage } from '../core/index.js'
import { FORWARD_DECODE_LIMITS, textified } from './forward-message.js'
import { ndjsonLineParser } from './ndjson-line-parser.js'

export interface RecordProblem {
  /** Position of the record: array index, or line number (from 1) for NDJSON. */
  index: number
  reason: string
}

export interface ParsedBody {
  records: Array<{ index: number; value: unknown }>
  problems: RecordProblem[]
  format: 'json-array' | 'json-object' | 'ndjson' | 'msgpack'
}

/** Decompresses gzip bodies (fluentd and fluent-bit `compress gzip`) as text, never past the body limit. */
export function decodeBody(body: Buffer, contentEncoding: string | undefined, limitBytes: number): string {
  return inflateBody(body, contentEncoding, limitBytes).toString('utf8')
}

/** Decompresses gzip bodies, never past the body limit. */
export function inflateBody(body: Buffer, contentEncoding: string | undefined, limitBytes: number): Buffer {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') return body
  if (encoding !== 'gzip')
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `unsupported Content-Encoding "${encoding}"; use gzip or none`,
    )
  try {
    return gunzipSync(body, { maxOutputLength: limitBytes })
  } catch (error) {
    const tooLarge =
      (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ||
      /maxOutputLength|buffer/i.test(errorMessage(error))
    if (tooLarge)
      throw new ArgusError(
        'ARGUS_ERR_PAYLOAD_TOO_LARGE',
        `decompressed body is larger than ${limitBytes} bytes`,
      )
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `body is not valid gzip: ${errorMessage(error)}`)
  }
}

/**
 * Parses fluentd `out_http` with `<format> @type msgpack`: records as concatenated msgpack maps.
 * A broken item ends the body (msgpack cannot resynchronise); the records before it are kept.
 */
export function parseFluentMsgpack(bytes: Buffer): ParsedBody {
  const records: ParsedBody['records'] = []
  const problems: RecordProblem[] = []
  try {
    for (const value of decodeMulti(bytes, FORWARD_DECODE_LIMITS))
      records.push({ index: records.length, value: textified(value) })
  } catch (error) {
    problems.push({ index: records.length, reason: `not msgpack from here on: ${errorMessage(error)}` })
  }
  return { records, problems, format: 'msgpack' }
}

/**
 * Parses the bodies fluentd `out_http` and fluent-bit `http` send: a JSON array (fluentd
 * `json_array true`, fluent-bit `format json`), a single JSON object, or NDJSON (fluentd's default,
 * fluent-bit `json_lines`). An unparseable array fails whole; in NDJSON each line stands alone,
 * so one bad line costs only that line.
 */
export function parseFluentBody(text: string): ParsedBody {
  const trimmed = text.trim()
  if (trimmed.length === 0) throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'request body is empty')
  if (trimmed.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (error) {
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', `body is not valid JSON: ${errorMessage(error)}`)
    }
    if (!Array.isArray(parsed))
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'body must be a JSON array of records')
    return {
      records: (parsed as unknown[]).map((value, index) => ({ index, value })),
      problems: [],
      format: 'json-array',
    }
  }
  const lines = trimmed.split('\n')
  const records: ParsedBody['records'] = []
  const problems: RecordProblem[] = []
  const parseLine = ndjsonLineParser()
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    if (line.length === 0) continue
    try {
      records.push({ index: i + 1, value: parseLine(line) })
    } catch (error) {
      problems.push({ index: i + 1, reason: `line is not valid JSON: ${errorMessage(error)}` })
    }
  }
  if (records.length === 0 && problems.length > 0) {
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `body is not valid JSON or NDJSON: ${problems[0]?.reason ?? ''}`,
      {
        details: { problems: problems.slice(0, 20) },
      },
    )
  }
  return { records, problems, format: lines.length === 1 ? 'json-object' : 'ndjson' }
}
