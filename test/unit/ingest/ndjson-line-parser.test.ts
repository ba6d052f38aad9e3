import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ndjsonLineParser } from '../../../ingest/ndjson-line-parser.js'
import { parseFluentBody } from '../../../ingest/fluent-http-body.js'

const kubernetes = {
  namespace_name: 'shop',
  pod_name: 'cart-7d9f8b6c5d-x2x9q',
  container_name: 'cart',
  host: 'node-1',
  labels: { app: 'cart', 'pod-template-hash': '7d9f8b6c5d' },
}

/** A container's lines as fluent-bit's kubernetes filter writes them: the metadata last. */
const line = (i: number, metadata: unknown = kubernetes): string =>
  JSON.stringify({
    log: `request ${i} "quoted", {braced}\n`,
    stream: 'stdout',
    time: `t${i}`,
    kubernetes: metadata,
  })

/** Parses `lines` as one body's lines, each as the parser for the body gives it, or its error. */
function parseAll(lines: string[]): unknown[] {
  const parse = ndjsonLineParser()
  return lines.map((text) => {
    try {
      return parse(text)
    } catch (error) {
      return { error: (error as Error).message }
    }
  })
}

function jsonParseAll(lines: string[]): unknown[] {
  return lines.map((text) => {
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      return { error: (error as Error).message }
    }
  })
}

describe('NDJSON line parser', () => {
  it("gives every line of one container's body the same frozen pod metadata, and the records JSON.parse gives", () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(i))
    const records = parseAll(lines) as Array<Record<string, unknown>>
    expect(records).toEqual(jsonParseAll(lines))
    const first = records[0]?.kubernetes
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen((first as { labels: unknown }).labels)).toBe(true)
    expect(records.every((record) => record.kubernetes === first)).toBe(true)
    // Each record is its own object, in JSON.parse's key order.
    expect(new Set(records).size).toBe(50)
    expect(Object.keys(records[7] as object)).toEqual(['log', 'stream', 'time', 'kubernetes'])
    expect(Object.isFrozen(records[7])).toBe(false)
  })

  it("shares each container's metadata among its lines in a body that mixes containers, and across bodies", () => {
    const pods = ['cart-1', 'cart-2', 'cart-3']
    const lines = Array.from({ length: 30 }, (_, i) => line(i, { ...kubernetes, pod_name: pods[i % 3] }))
    const records = parseAll(lines) as Array<Record<string, unknown>>
    expect(records).toEqual(jsonParseAll(lines))
    expect(records.every((record) => Object.isFrozen(record.kubernetes))).toBe(true)
    for (let i = 3; i < 30; i++) expect(records[i]?.kubernetes).toBe(records[i % 3]?.kubernetes)
    expect(new Set(records.map((record) => record.kubernetes)).size).toBe(3)
    // Another body with the same container's lines gets the same frozen block.
    const later = parseAll([line(100, { ...kubernetes, pod_name: 'cart-2' }), line(101)]) as Array<
      Record<string, unknown>
    >
    expect(later[0]?.kubernetes).toBe(records[1]?.kubernetes)
  })

  it('stays right with more distinct pod metadata than it keeps', () => {
    const lines = Array.from({ length: 5000 }, (_, i) =>
      line(i, { ...kubernetes, pod_name: `pod-${i % 2500}` }),
    )
    expect(parseAll(lines)).toEqual(jsonParseAll(lines))
  })

  it('answers as JSON.parse for lines that share the tail but are not simple records', () => {
    const tail = `"kubernetes":${JSON.stringify(kubernetes)}}`
    const lines = [
      `{"log":"a",${tail}`,
      `{ ${tail}`,
      `{"log":"b" ,\t\r\n ${tail}`,
      `{"log":"dup","kubernetes":1,${tail}`,
      `{"log":"c",\u00a0${tail}`,
      `{"log":"d" ${tail}`,
      `{"log":"e",,${tail}`,
      `["array",${tail}`,
      `{"outer":{"x":1,${tail}`,
      `{"log":"f",${tail}`,
    ]
    const records = parseAll(lines)
    expect(records).toEqual(jsonParseAll(lines))
    // The invalid ones fail as JSON.parse fails on them: whitespace JSON does not allow, a missing
    // or doubled comma, an array, an unclosed inner object.
    expect(records.filter((record) => 'error' in (record as object))).toHaveLength(5)
  })

  it('keeps members after the pod metadata, and a "__proto__" member as a field, as JSON.parse does', () => {
    const withAfter = [0, 1, 2].map((i) => `{"log":"x${i}","kubernetes":{"pod_name":"p"},"cluster":"c1"}`)
    const shared = parseAll(withAfter) as Array<Record<string, unknown>>
    expect(shared).toEqual(jsonParseAll(withAfter))
    expect(shared[2]?.cluster).toBe('c1')

    const withProto = [0, 1, 2].map(
      (i) => `{"log":"x${i}","kubernetes":{"pod_name":"p"},"__proto__":{"admin":true}}`,
    )
    const parsed = parseAll(withProto) as Array<Record<string, unknown>>
    expect(parsed).toEqual(jsonParseAll(withProto))
    expect(Object.hasOwn(parsed[1] as object, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(parsed[1])).toBe(Object.prototype)
    expect((parsed[1] as { admin?: unknown }).admin).toBeUndefined()
  })

  it('agrees with JSON.parse on generated bodies of one or several containers, lines broken or not', () => {
    const head = fc.dictionary(
      fc.string({ maxLength: 8 }).filter((key) => key !== 'kubernetes'),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    )
    const metadata = fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 3 })
    // Cuts a line short or drops a character: what a truncated or corrupted line looks like.
    const damage = fc.option(fc.tuple(fc.constantFrom('cut', 'drop'), fc.nat()), { freq: 3 })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(head, damage, fc.nat()), { minLength: 2, maxLength: 12 }),
        metadata,
        (heads, metas) => {
          const lines = heads.map(([fields, broken, which]) => {
            const text = JSON.stringify({ ...fields, kubernetes: metas[which % metas.length] })
            if (!broken) return text
            const at = broken[1] % text.length
            return broken[0] === 'cut' ? text.slice(0, at) || '{' : text.slice(0, at) + text.slice(at + 1)
          })
          expect(parseAll(lines)).toEqual(jsonParseAll(lines))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('is what parseFluentBody uses for NDJSON bodies', () => {
    const body = Array.from({ length: 5 }, (_, i) => line(i)).join('\n')
    const parsed = parseFluentBody(`${body}\n`)
    expect(parsed.format).toBe('ndjson')
    expect(parsed.records.map((r) => r.index)).toEqual([1, 2, 3, 4, 5])
    const metadata = parsed.records.map((r) => (r.value as { kubernetes: unknown }).kubernetes)
    expect(new Set(metadata).size).toBe(1)
    expect(metadata[0]).toEqual(kubernetes)
  })
})
