import type { KafkaMessage, Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { ENCODING_HEADER, packMessages, unpackMessage } from '../../../bus/kafka-packing.js'
import { encodeDeltaPack } from '../../../bus/delta-pack.js'
import { decodeMetricBatchPack, encodeMetricBatchPack } from '../../../bus/metric-batch-pack.js'
import type { MetricBatch, MetricSeries } from '../../../core/index.js'
import { seededRandom } from '../../helpers/seeded-random.js'

/** A message as a consumer receives it back from the broker. */
function received(message: Message, offset: number): KafkaMessage {
  const headers: Record<string, Buffer> = {}
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.from(String(v))
  return {
    key: Buffer.from(String(message.key ?? '')),
    value: Buffer.from(message.value as Buffer),
    headers,
    offset: String(offset),
    timestamp: '1700000000000',
    attributes: 0,
  }
}

const TS = 1_764_400_000_000
/** Series as the remote_write decoder makes them: frozen, shared by every batch that names them. */
const series = Array.from({ length: 30 }, (_, n): MetricSeries => {
  const one: MetricSeries = {
    cluster: 'prod',
    name: n % 2 ? 'http_requests_total' : 'container_memory_working_set_bytes',
    type: n % 2 ? 'counter' : 'gauge',
    labels: Object.freeze({ code: String(200 + (n % 3)), pod: `cart-6d4cf56db6-x${n % 5}`, 'é ✓': '"q"' }),
    seriesId: `s${n}`,
    namespace: 'shop',
    workload: Object.freeze({ kind: 'Deployment', name: 'cart' }),
    pod: `cart-6d4cf56db6-x${n % 5}`,
  }
  return Object.freeze(one)
})

/** A request's batch: `count` points of series drawn from the shared ones, some odd values among them. */
function batch(seed: number, count: number): MetricBatch {
  const { next } = seededRandom(seed)
  const named = [...new Set(Array.from({ length: 8 }, () => Math.floor(next() * series.length)))]
  const odd = [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e-300, -1.5e308]
  return {
    series: named.map((n) => series[n] as MetricSeries),
    seriesIndex: Array.from({ length: count }, () => Math.floor(next() * named.length)),
    ts: Array.from({ length: count }, (_, i) => TS + i * 15_000 + seed),
    value: Array.from({ length: count }, (_, i) =>
      i % 17 === 3 ? (odd[i % odd.length] as number) : next() * 1e6,
    ),
  }
}

/** A batch as a remote_write request gives it: each series once, in order, all at one scrape time. */
function scrapeBatch(from: number, count: number, sameTime = true): MetricBatch {
  const named = series.slice(from, from + count)
  return {
    series: named,
    seriesIndex: named.map((_, i) => i),
    ts: named.map((_, i) => TS + (sameTime ? 0 : i)),
    value: named.map((_, i) => i * 1.25),
  }
}

describe('metric batch packs', () => {
  it('give back every batch exactly, and each series as one frozen object shared by the batches that name it', () => {
    const sent = [
      ...Array.from({ length: 12 }, (_, i) => batch(i, 1 + i * 40)),
      scrapeBatch(0, 20),
      scrapeBatch(5, 12, false),
      scrapeBatch(3, 1),
      { ...scrapeBatch(2, 6), seriesIndex: [0, 1, 2, 3, 5, 4] },
    ]
    const packed = packMessages(
      sent.map((value, i) => ({ key: `k${i % 2}`, value, records: value.ts.length })),
    )
    expect(packed.messages.map((m) => m.headers?.[ENCODING_HEADER])).toEqual([
      'metric-batches',
      'metric-batches',
    ])
    const back = packed.messages.flatMap((m, i) => unpackMessage<MetricBatch>('t', 0, received(m, i)))
    const byKey = (k: number) => sent.filter((_, i) => i % 2 === k)
    expect(back.map((m) => m.value)).toEqual([...byKey(0), ...byKey(1)])
    // NaN, infinities and negative zero come back as themselves.
    const odd = (batches: MetricBatch[]) =>
      batches.flatMap((b) => b.value.filter((v) => !Number.isFinite(v) || Object.is(v, -0)).map(String))
    expect(odd(back.map((m) => m.value)).sort()).toEqual(odd(sent).sort())
    expect(odd(sent)).toEqual(expect.arrayContaining(['NaN', 'Infinity', '0']))
    const decoded = back.flatMap((m) => m.value.series)
    const byId = new Map(decoded.map((s) => [s.seriesId, s]))
    for (const one of decoded) expect(one).toBe(byId.get(one.seriesId))
    expect(Object.isFrozen(decoded[0])).toBe(true)
    expect(Object.isFrozen(decoded[0]?.labels)).toBe(true)
    expect(Object.isFrozen(decoded[0]?.workload)).toBe(true)
    // A later pack that names them again (another request) gets the same objects.
    const again = decodeMetricBatchPack(encodeMetricBatchPack([batch(99, 5)]) as Buffer)
    for (const one of again[0]?.series ?? []) expect(one).toBe(byId.get(one.seriesId) ?? one)
  })

  it('carry a request of batches in a fraction of a delta pack, and a scrape in 8 bytes a point', () => {
    const sent = Array.from({ length: 50 }, (_, i) => batch(i, 40))
    const columns = encodeMetricBatchPack(sent) as Buffer
    const delta = encodeDeltaPack(sent) as Buffer
    expect(columns.length).toBeLessThan(delta.length * 0.6)
    // Each series once in order at one time: only the values are written point by point.
    const size = (one: MetricBatch) => (encodeMetricBatchPack([one]) as Buffer).length
    const scrape = scrapeBatch(0, 30)
    const reordered = {
      ...scrape,
      series: [...scrape.series].reverse(),
      seriesIndex: scrape.seriesIndex.map((i) => 29 - i),
    }
    expect(size(reordered) - size(scrape)).toBe(4 * 30)
    expect(size(scrapeBatch(0, 30, false)) - size(scrape)).toBe(8 * 29)
    expect(decodeMetricBatchPack(encodeMetricBatchPack([reordered]) as Buffer)).toEqual([reordered])
  })

  it('leave to delta packs what is not exactly a MetricBatch, which comes back as it was', () => {
    const good = batch(1, 10)
    const odd: unknown[] = [
      { ...good, extra: 1 },
      { ...good, value: [...good.value.slice(1), 'x'] },
      { ...good, seriesIndex: [...good.seriesIndex.slice(1), good.series.length] },
      { ...good, seriesIndex: [...good.seriesIndex.slice(1), 0.5] },
      { ...good, ts: good.ts.slice(1) },
      { ...good, series: [...good.series.slice(1), [1, 2]] },
      { seriesIndex: good.seriesIndex, series: good.series, ts: good.ts, value: good.value },
    ]
    for (const value of odd) {
      expect(encodeMetricBatchPack([good, value])).toBeUndefined()
      const packed = packMessages([{ key: 'k', value }])
      expect(packed.messages[0]?.headers?.[ENCODING_HEADER]).toBe('msgpack-delta')
      expect(unpackMessage('t', 0, received(packed.messages[0] as Message, 0))[0]?.value).toEqual(value)
    }
  })

  it('refuse a value that is not one, truncated or changed, with an error and nothing else', () => {
    const valid = encodeMetricBatchPack([batch(3, 30), scrapeBatch(0, 12), batch(4, 7)]) as Buffer
    for (let cut = 0; cut < valid.length; cut++)
      expect(() => decodeMetricBatchPack(valid.subarray(0, cut))).toThrow(
        /malformed metric batch pack|truncated|end/,
      )
    expect(() => decodeMetricBatchPack(Buffer.concat([valid, Buffer.from([0])]))).toThrow(
      /after the last batch/,
    )
    const wrongVersion = Buffer.from(valid)
    wrongVersion[0] = 2
    expect(() => decodeMetricBatchPack(wrongVersion)).toThrow(/unknown version/)
    // 10,000 payloads with bytes changed at random: each decodes to batches or throws an Error.
    const { next } = seededRandom(7)
    let refused = 0
    for (let i = 0; i < 10_000; i++) {
      const changed = Buffer.from(valid)
      for (let k = 0; k < 1 + (i % 4); k++)
        changed[Math.floor(next() * changed.length)] = Math.floor(next() * 256)
      try {
        const batches = decodeMetricBatchPack(changed)
        expect(batches).toHaveLength(3)
      } catch (error) {
        expect(error).toBeInstanceOf(Error)
        refused++
      }
    }
    expect(refused).toBeGreaterThan(1000)
  })
})
