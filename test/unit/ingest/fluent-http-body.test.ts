import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { decodeBody, parseFluentBody } from '../../../ingest/index.js'
import { argusErrorOf } from '../../helpers/argus-error-of.js'

describe('parseFluentBody', () => {
  it('parses a JSON array (fluentd json_array, fluent-bit format json)', () => {
    const parsed = parseFluentBody('[{"log":"a"},{"log":"b"}]')
    expect(parsed.format).toBe('json-array')
    expect(parsed.records.map((r) => r.value)).toEqual([{ log: 'a' }, { log: 'b' }])
  })

  it('parses NDJSON and keeps the good lines when one is broken', () => {
    const parsed = parseFluentBody('{"log":"a"}\n{"log":\n\n{"log":"c"}\n')
    expect(parsed.format).toBe('ndjson')
    expect(parsed.records).toEqual([
      { index: 1, value: { log: 'a' } },
      { index: 4, value: { log: 'c' } },
    ])
    expect(parsed.problems).toHaveLength(1)
    expect(parsed.problems[0]?.index).toBe(2)
  })

  it('rejects a broken array whole, an empty body, and a body with no valid line', () => {
    expect(argusErrorOf(() => parseFluentBody('[{"log":"a"},')).message).toContain('not valid JSON')
    expect(argusErrorOf(() => parseFluentBody('   ')).message).toContain('empty')
    expect(argusErrorOf(() => parseFluentBody('hello\nworld')).code).toBe('ARGUS_ERR_BAD_INPUT')
  })
})

describe('decodeBody', () => {
  it('inflates gzip bodies', () => {
    expect(decodeBody(gzipSync('{"log":"x"}'), 'gzip', 1024)).toBe('{"log":"x"}')
  })

  it('refuses a gzip body that inflates past the limit (no zip bombs)', () => {
    const bomb = gzipSync(Buffer.alloc(1_000_000, 'a'))
    expect(bomb.length).toBeLessThan(10_000)
    expect(argusErrorOf(() => decodeBody(bomb, 'gzip', 64 * 1024)).code).toBe('ARGUS_ERR_PAYLOAD_TOO_LARGE')
  })

  it('rejects unknown encodings and corrupt gzip', () => {
    expect(argusErrorOf(() => decodeBody(Buffer.from('x'), 'br', 1024)).message).toContain('Content-Encoding')
    expect(argusErrorOf(() => decodeBody(Buffer.from('not gzip'), 'gzip', 1024)).code).toBe(
      'ARGUS_ERR_BAD_INPUT',
    )
  })
})
