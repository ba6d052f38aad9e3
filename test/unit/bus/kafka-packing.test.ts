import type { KafkaMessage, Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { PACK_HEADER, packMessages, unpackMessage } from '../../../bus/kafka-packing.js'

/** A packed message as a consumer receives it back from the broker. */
function received(message: Message, offset: number): KafkaMessage {
  const headers: Record<string, Buffer> = {}
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.from(String(v))
  return {
    key: Buffer.from(String(message.key ?? '')),
    value: Buffer.from(String(message.value)),
    headers,
    offset: String(offset),
    timestamp: '1700000000000',
    attributes: 0,
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
    expect(packed.messages.map((m) => [m.key, m.value])).toEqual([
      ['a', '[{"n":1},{"n":3}]'],
      ['b', '{"n":2}'],
      ['c', '{"n":4}'],
    ])
    expect(packed.messages[0]?.headers).toEqual({ [PACK_HEADER]: '2' })
    expect(packed.bytes).toBe(records.reduce((n, r) => n + JSON.stringify(r.value).length + 1, 0))
    const unpacked = packed.messages.flatMap((m, i) =>
      unpackMessage<{ n: number }>('t', 3, received(m, 10 + i)),
    )
    expect(unpacked.map((m) => [m.key, m.value.n, m.offset, m.partition])).toEqual([
      ['a', 1, 10, 3],
      ['a', 3, 10, 3],
      ['b', 2, 11, 3],
      ['c', 4, 12, 3],
    ])
    expect(unpacked[0]?.headers).toBeUndefined()
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

  it('sends records with headers alone, headers kept, and reads unpacked messages of older producers', () => {
    const packed = packMessages([{ key: 'x', value: 'dead', headers: { 'argus-error-code': 'E' } }])
    expect(packed.messages).toEqual([{ key: 'x', value: '"dead"', headers: { 'argus-error-code': 'E' } }])
    const [record] = unpackMessage<string>('t', 0, received(packed.messages[0] as Message, 5))
    expect(record).toMatchObject({ value: 'dead', headers: { 'argus-error-code': 'E' }, offset: 5 })
  })

  it('refuses a pack that is not a JSON array, and a value that is not JSON', () => {
    expect(() =>
      unpackMessage('t', 0, received({ value: '{"a":1}', headers: { [PACK_HEADER]: '2' } }, 1)),
    ).toThrow(/JSON array/)
    expect(() => unpackMessage('t', 0, received({ value: 'not json' }, 1))).toThrow()
  })
})
