import type { KafkaMessage, Message } from 'kafkajs'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import {
  ENCODING_HEADER,
  PACK_HEADER,
  RECORDS_HEADER,
  packMessages,
  rawValueOf,
  recordsIn,
  unpackMessage,
} from '../../../bus/kafka-packing.js'

/** A message as a consumer receives it back from the broker. */
function received(message: Message, offset: number): KafkaMessage {
  const headers: Record<string, Buffer> = {}
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.from(String(v))
  const value = message.value
  return {
    key: Buffer.from(String(message.key ?? '')),
    value: Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.from(String(value)),
    headers,
    offset: String(offset),
    timestamp: '1700000000000',
    attributes: 0,
  }
}

/** A log record as the collector publishes it. */
function logRecord(n: number): Record<string, unknown> {
  return {
    ts: 1_764_400_000_000 + n,
    cluster: 'prod',
    namespace: n % 2 ? 'shop' : 'payments',
    workload: { kind: 'Deployment', name: `svc-${n % 3}` },
    pod: `svc-${n % 3}-6d4cf56db6-x${n % 5}`,
    attributes: { 'label.app': `svc-${n % 3}`, ...(n % 4 === 0 && { [`extra.${n}`]: 'é ✓ "quoted"' }) },
    message: `GET /api/${n} in ${n % 250}ms`,
    level: 'info',
    source: 'fluentd-http',
    ...(n % 7 === 0 && { value: n / 3, nested: [{ a: [1, 2.5, -3] }, null, true] }),
  }
}

describe('kafka packing', () => {
  it('packs records per key in order and unpacks them with the message offset', () => {
    const records = [
      { key: 'a', value: { n: 1 } },
      { key: 'b', value: { n: 2 } },
      { key: 'a', value: { n: 3 } },
      { key: 'c', value: { n: 4 } },
    ]
    const packed = packMessages(records)
    expect(packed.messages.map((m) => [m.key, m.headers?.[PACK_HEADER]])).toEqual([
      ['a', '2'],
      ['b', '1'],
      ['c', '1'],
    ])
    expect(packed.messages.every((m) => m.headers?.[ENCODING_HEADER] === 'msgpack-delta')).toBe(true)
    expect(packed.bytes).toBe(
      packed.messages.reduce((n, m) => n + (m.value as Buffer).length + String(m.key).length, 0),
    )
    const unpacked = packed.messages.flatMap((m, i) =>
      unpackMessage<{ n: number }>('t', 3, received(m, 10 + i)),
    )
    expect(unpacked.map((m) => [m.key, m.value.n, m.offset, m.partition])).toEqual([
      ['a', 1, 10, 3],
      ['a', 3, 10, 3],
      ['b', 2, 11, 3],
      ['c', 4, 12, 3],
    ])
    // The pack's own headers are transport, not the record's.
    expect(unpacked[0]?.headers).toBeUndefined()
  })

  it('tells consumers how many records a pack of batches stands for, and keeps it out of record headers', () => {
    const batch = (n: number) => ({ series: [{ name: 'up' }], ts: [n, n + 1], value: [0.5, 1] })
    const packed = packMessages<unknown>([
      { key: 'a', value: { n: 1 } },
      { key: 'a', value: batch(10), records: 2000 },
      { key: 'b', value: { n: 2 } },
      { key: 'c', value: batch(20), records: 3 },
    ])
    expect(
      packed.messages.map((m) => [m.key, m.headers?.[PACK_HEADER], m.headers?.[RECORDS_HEADER]]),
    ).toEqual([
      ['a', '2', '2001'],
      ['b', '1', undefined],
      ['c', '1', '3'],
    ])
    const back = packed.messages.map((m, i) => received(m, i))
    expect(back.map(recordsIn)).toEqual([2001, undefined, 3])
    const unpacked = back.flatMap((m) => unpackMessage<unknown>('t', 0, m))
    expect(unpacked[1]?.value).toEqual(batch(10))
    expect(unpacked.every((m) => m.headers === undefined)).toBe(true)
    // A header that is not a positive count is not trusted.
    const forged = received(packed.messages[0] as Message, 0)
    forged.headers = { [RECORDS_HEADER]: Buffer.from('-4') }
    expect(recordsIn(forged)).toBeUndefined()
  })

  it('gives back records of many shapes exactly, each message decoding on its own', () => {
    const records = Array.from({ length: 600 }, (_, n) => ({ key: `k${n % 4}`, value: logRecord(n) }))
    const packed = packMessages(records)
    // Decoded in reverse order: no message depends on shapes another one defined.
    const values = new Map<string, unknown[]>()
    for (const [i, message] of [...packed.messages.entries()].reverse())
      values.set(
        String(message.key),
        unpackMessage('t', 0, received(message, i)).map((r) => r.value),
      )
    for (const key of ['k0', 'k1', 'k2', 'k3'])
      expect(values.get(key)).toEqual(records.filter((r) => r.key === key).map((r) => r.value))
    // Half the bytes of JSON, which the broker, the CRC and every consumer group pay again.
    const json = records.reduce((n, r) => n + JSON.stringify(r.value).length, 0)
    expect(packed.bytes).toBeLessThan(json * 0.75)
  })

  it('writes a field repeated from the record before once, and decodes it as that same value', () => {
    // One pod's lines, as a shipper sends them: only time and message change.
    const lines = Array.from({ length: 300 }, (_, n) => ({
      key: 'shop/Deployment/cart',
      value: {
        ...logRecord(0),
        ts: 1_764_400_000_000 + n,
        message: `GET /api/cart/${n} in ${n % 250}ms`,
        ...(n === 120 && { pod: 'cart-6d4cf56db6-other' }),
        ...(n === 121 && { level: undefined }),
      },
    }))
    const packed = packMessages(lines)
    expect(packed.messages.map((m) => m.headers?.[ENCODING_HEADER])).toEqual(['msgpack-delta'])
    const values = unpackMessage<Record<string, unknown>>(
      't',
      0,
      received(packed.messages[0] as Message, 0),
    ).map((r) => r.value)
    expect(values).toEqual(lines.map((l) => JSON.parse(JSON.stringify(l.value)) as unknown))
    expect('level' in (values[121] as object)).toBe(false)
    // Repeats are the previous record's objects, not copies; a change starts a new run.
    expect(values[1]?.attributes).toBe(values[0]?.attributes)
    expect(values[119]?.workload).toBe(values[0]?.workload)
    expect(values[120]?.pod).not.toBe(values[119]?.pod)
    expect(values[122]?.pod).toBe(values[0]?.pod)
    // Little more than each line's own fields: under a third of JSON.
    const json = lines.reduce((n, l) => n + JSON.stringify(l.value).length, 0)
    expect(packed.bytes).toBeLessThan(json / 3)
  })

  it('packs what is not a plain object, more than 30 fields or a "__proto__" field with the record encoding', () => {
    const wide = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`f${i}`, i]))
    class Point {
      constructor(readonly x: number) {}
    }
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "b": 2}') as Record<string, unknown>
    for (const value of [7, 'text', [1, 2], new Point(3), wide, null, proto]) {
      const packed = packMessages([
        { key: 'k', value: { a: 1 } },
        { key: 'k', value },
      ])
      expect(packed.messages.map((m) => m.headers?.[ENCODING_HEADER])).toEqual(['msgpack'])
      const back = unpackMessage('t', 0, received(packed.messages[0] as Message, 0)).map((r) => r.value)
      if (value === proto) {
        // msgpackr keeps the field as "__proto_": a field, never the decoded object's prototype.
        expect(back[1]).toEqual({ __proto_: { polluted: true }, b: 2 })
        expect(Object.getPrototypeOf(back[1])).toBe(Object.prototype)
      } else expect(back).toEqual([{ a: 1 }, value instanceof Point ? { x: 3 } : value])
    }
  })

  it('refuses delta packs that do not hold what their masks say', () => {
    const pack = (items: unknown[]): KafkaMessage =>
      received({ value: new Packr({ useRecords: false }).pack(items), headers: deltaHeaders }, 1)
    const deltaHeaders = { [PACK_HEADER]: '1', [ENCODING_HEADER]: 'msgpack-delta' }
    const cases: Array<[unknown[], RegExp]> = [
      [[['a'], 1, 0], /truncated/],
      [[['a'], 1, 1], /no previous value/],
      [[['a'], 2, 0, 'x'], /fields the pack does not have/],
      [[['a'], 1, 2, 'x'], /fields the pack does not have/],
      [[['a'], -1, 0, 'x'], /fields the pack does not have/],
      [[['a'], 'one', 0], /no masks/],
      [[['a'], 1], /no masks/],
      [['a', 1, 0, 'x'], /no field names/],
      [[[1], 1, 0, 'x'], /no field names/],
      [[['__proto__'], 1, 0, {}], /named __proto__/],
    ]
    for (const [items, reason] of cases) expect(() => unpackMessage('t', 0, pack(items))).toThrow(reason)
    expect(() => unpackMessage('t', 0, received({ value: 'x', headers: deltaHeaders }, 1))).toThrow()
    // Every cut of a real pack either throws or decodes to records, never anything else.
    const whole = received(
      packMessages(Array.from({ length: 20 }, (_, n) => ({ key: 'k', value: logRecord(n) })))
        .messages[0] as Message,
      1,
    )
    for (let cut = 0; cut < (whole.value as Buffer).length; cut++) {
      const truncated = { ...whole, value: (whole.value as Buffer).subarray(0, cut) }
      let decoded: unknown[] | undefined
      try {
        decoded = unpackMessage('t', 0, truncated).map((r) => r.value)
      } catch (error) {
        expect(error).toBeInstanceOf(Error)
      }
      if (decoded) expect(decoded.every((r) => typeof r === 'object' && r !== null)).toBe(true)
    }
  })

  it('keeps earlier packs intact while later ones are encoded (they wait for the broker)', () => {
    const first = packMessages([{ key: 'a', value: logRecord(1) }])
    for (let n = 0; n < 200; n++) packMessages([{ key: 'b', value: logRecord(n) }])
    const [record] = unpackMessage('t', 0, received(first.messages[0] as Message, 0))
    expect(record?.value).toEqual(logRecord(1))
  })

  it('splits a large run of one key into packs of at most 1000, keeping the order', () => {
    const records = Array.from({ length: 2500 }, (_, n) => ({ key: 'k', value: n }))
    const packed = packMessages(records)
    expect(packed.messages.map((m) => m.headers?.[PACK_HEADER])).toEqual(['1000', '1000', '500'])
    const values = packed.messages.flatMap((m, i) =>
      unpackMessage<number>('t', 0, received(m, i)).map((r) => r.value),
    )
    expect(values).toEqual(records.map((r) => r.value))
  })

  it('halves a pack over 1 MiB until it fits; one record over it goes alone', () => {
    const line = 'x'.repeat(300 * 1024)
    const records = [...Array.from({ length: 7 }, (_, n) => `${n}${line}`), 'y'.repeat(1_500_000)].map(
      (value) => ({ key: 'k', value }),
    )
    const packed = packMessages(records)
    expect(packed.messages.map((m) => m.headers?.[PACK_HEADER])).toEqual(['2', '2', '2', '1', '1'])
    const sizes = packed.messages.map((m) => (m.value as Buffer).length)
    expect(sizes.slice(0, 4).every((size) => size <= 1024 * 1024)).toBe(true)
    const values = packed.messages.flatMap((m, i) =>
      unpackMessage<string>('t', 0, received(m, i)).map((r) => r.value),
    )
    expect(values).toEqual(records.map((r) => r.value))
  })

  it('sends records with headers alone as JSON, headers kept, and reads JSON messages of older producers', () => {
    const packed = packMessages([{ key: 'x', value: 'dead', headers: { 'argus-error-code': 'E' } }])
    expect(packed.messages).toEqual([{ key: 'x', value: '"dead"', headers: { 'argus-error-code': 'E' } }])
    const [record] = unpackMessage<string>('t', 0, received(packed.messages[0] as Message, 5))
    expect(record).toMatchObject({ value: 'dead', headers: { 'argus-error-code': 'E' }, offset: 5 })
    const older = unpackMessage<{ n: number }>(
      't',
      0,
      received({ value: '[{"n":1},{"n":2}]', headers: { [PACK_HEADER]: '2' } }, 6),
    )
    expect(older.map((r) => r.value.n)).toEqual([1, 2])
  })

  it('refuses values that do not decode, and dead-letters binary ones as base64', () => {
    expect(() =>
      unpackMessage('t', 0, received({ value: '{"a":1}', headers: { [PACK_HEADER]: '2' } }, 1)),
    ).toThrow(/array/)
    expect(() => unpackMessage('t', 0, received({ value: 'not json' }, 1))).toThrow()
    const truncated = received(packMessages([{ key: 'k', value: logRecord(3) }]).messages[0] as Message, 1)
    truncated.value = (truncated.value as Buffer).subarray(0, 20)
    expect(() => unpackMessage('t', 0, truncated)).toThrow()
    expect(rawValueOf(truncated)).toBe(truncated.value.toString('base64'))
    expect(() =>
      unpackMessage('t', 0, received({ value: 'abc', headers: { [ENCODING_HEADER]: 'avro' } }, 1)),
    ).toThrow(/unknown value encoding "avro"/)
  })
})
