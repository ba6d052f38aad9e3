import { encode } from '@msgpack/msgpack'
import { Unpackr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { EventTimeValue, FORWARD_CODEC, readForwardMessage } from '../../../ingest/index.js'
import { textified } from '../../../ingest/forward-message.js'
import { MsgpackWalkError, skipValues } from '../../../ingest/msgpack-walk.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const pack = (value: unknown): Uint8Array => encode(value, { extensionCodec: FORWARD_CODEC })
const chunkOf = (entries: unknown[]): Buffer => Buffer.concat(entries.map(pack))
/** How entries decoded before pod metadata blocks were shared: msgpackr on the whole chunk. */
const reference = new Unpackr({ mapsAsObjects: true, useRecords: false })
const decodedWhole = (packed: Buffer): unknown[] =>
  (reference.unpackMultiple(packed) as unknown[][]).map((entry) => textified(entry[1]))
const recordsOf = (packed: Buffer): unknown[] =>
  readForwardMessage(['kube.var.log', packed]).entries.map((entry) => entry.record)

const block = (pod: string) => ({
  pod_name: pod,
  namespace_name: 'shop',
  pod_id: `e4f7c1a2-5b3d-4c8e-9f1a-${pod.padStart(12, '0').slice(-12)}`,
  labels: { app: pod.split('-')[0], 'pod-template-hash': '6d4cf56db6' },
  host: 'node-1',
  container_name: 'app',
  docker_id: 'a'.repeat(64),
})

describe('PackedForward entries with shared pod metadata', () => {
  it('decode to what decoding the whole chunk gives, on 400 generated chunks that repeat blocks', () => {
    const { next } = seededRandom(21)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
    const pods = ['cart-6d4cf56db6-x7k2p', 'cart-6d4cf56db6-q9z8w', 'db-0', 'db-1', 'api-7f8b9c6d5-abcde']
    let shared = 0
    for (let chunk = 0; chunk < 400; chunk++) {
      const entries = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) => {
        const record: Record<string, unknown> = { log: `line ${chunk}/${i}\n`, stream: 'stdout' }
        const roll = next()
        // Where kubernetes sits among the keys, and what it holds, vary; so do the odd cases.
        if (roll < 0.6) record.kubernetes = block(pick(pods))
        else if (roll < 0.65) record.kubernetes = 'not a map'
        else if (roll < 0.7) record.kubernetes = { pod_name: new TextEncoder().encode(pick(pods)) }
        if (next() < 0.3) record.level = pick(['info', 'error'])
        if (next() < 0.1) record.nested = { deep: [1, { more: 'x' }], bytes: new Uint8Array([104, 105]) }
        const time = next() < 0.5 ? 1_700_000_000 + i : new EventTimeValue(1_700_000_000_123 + i)
        if (next() < 0.05) return [time, record, 'an extra item']
        if (next() < 0.03)
          return [
            time,
            new Map<unknown, unknown>([
              [1, 'int key'],
              ['kubernetes', block('db-0')],
            ]),
          ]
        return [time, record]
      })
      const packed = chunkOf(entries)
      const records = recordsOf(packed)
      expect(records).toEqual(decodedWhole(packed))
      for (const record of records)
        if (Object.isFrozen((record as { kubernetes?: unknown }).kubernetes)) shared++
    }
    // Most blocks were found again and shared, not decoded.
    expect(shared).toBeGreaterThan(2_000)
  })

  it('gives every line of a container one frozen metadata object, across chunks', () => {
    const lines = (from: number) =>
      chunkOf(Array.from({ length: 5 }, (_, i) => [from + i, { log: `l${i}`, kubernetes: block('db-0') }]))
    const first = recordsOf(lines(0)) as Array<{ kubernetes: unknown }>
    const second = recordsOf(lines(10)) as Array<{ kubernetes: unknown }>
    const shared = second[0]?.kubernetes
    expect(Object.isFrozen(shared)).toBe(true)
    expect(Object.isFrozen((shared as { labels: unknown }).labels)).toBe(true)
    for (const record of [...first.slice(1), ...second]) expect(record.kubernetes).toBe(shared)
    expect(shared).toEqual(block('db-0'))
  })

  it('keeps the last of two kubernetes keys, as decoding whole does, even when the first is known', () => {
    const known = pack([1, { log: 'a', kubernetes: block('db-0') }])
    const twice = Buffer.concat([
      Buffer.from([0x92]),
      pack(2),
      Buffer.from([0x83]),
      pack('log'),
      pack('b'),
      pack('kubernetes'),
      pack(block('db-0')),
      pack('kubernetes'),
      pack(block('db-1')),
    ])
    const packed = Buffer.concat([known, twice])
    const records = recordsOf(packed) as Array<{ kubernetes: { pod_name: string } }>
    expect(records[1]?.kubernetes.pod_name).toBe('db-1')
    expect(records).toEqual(decodedWhole(packed))
  })

  it('refuses every cut of a chunk inside an entry, as decoding it whole does', () => {
    const entries = Array.from({ length: 3 }, (_, i) =>
      pack([i, { log: `l${i}`, kubernetes: block('db-1') }]),
    )
    const packed = Buffer.concat(entries)
    recordsOf(packed)
    // Where each entry ends: a cut there is a shorter valid chunk.
    const ends = entries.map((_, i) => entries.slice(0, i + 1).reduce((n, e) => n + e.length, 0))
    for (let end = 1; end < packed.length; end++)
      if (ends.includes(end)) expect(recordsOf(packed.subarray(0, end))).toHaveLength(ends.indexOf(end) + 1)
      else expect(() => recordsOf(packed.subarray(0, end)), `cut at ${end}`).toThrow(/not msgpack/)
  })
})

describe('skipValues', () => {
  it('finds where each value ends, and refuses a cut or an unknown type', () => {
    const { next } = seededRandom(3)
    const value = (depth: number): unknown => {
      const roll = next()
      if (depth > 3 || roll < 0.3) return pickScalar(next())
      if (roll < 0.6)
        return Array.from({ length: Math.floor(next() * (next() < 0.1 ? 40 : 5)) }, () => value(depth + 1))
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * (next() < 0.1 ? 40 : 5)) }, (_, i) => [
          `k${i}`,
          value(depth + 1),
        ]),
      )
    }
    for (let i = 0; i < 2_000; i++) {
      const bytes = pack(value(0))
      expect(skipValues(bytes, 0)).toBe(bytes.length)
      if (bytes.length > 1)
        expect(() => skipValues(bytes.subarray(0, bytes.length - 1), 0)).toThrow(MsgpackWalkError)
    }
    expect(() => skipValues(new Uint8Array([0xc1]), 0)).toThrow(MsgpackWalkError)
  })
})

function pickScalar(roll: number): unknown {
  const scalars: unknown[] = [
    null,
    true,
    false,
    7,
    -7,
    200,
    -200,
    70_000,
    -70_000,
    5_000_000_000,
    -5_000_000_000,
    1.5,
    'short',
    'x'.repeat(40),
    'y'.repeat(300),
    'z'.repeat(70_000),
    new Uint8Array(3),
    new Uint8Array(300),
    new EventTimeValue(1_700_000_000_123),
  ]
  return scalars[Math.floor(roll * scalars.length)]
}
