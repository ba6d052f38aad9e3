import protobuf from 'protobufjs'
import { compressSync } from 'snappy'
import { describe, expect, it } from 'vitest'
import { metricSeriesId, partitionKey } from '../../../core/index.js'
import { samplesOfBatch } from '../../helpers/metric-batch-samples.js'
import { REMOTE_WRITE_PROTO, RemoteWriteDecoder, toMetricSamples } from '../../../ingest/index.js'
import { MAX_BATCH_POINTS, type DecodedRequest } from '../../../ingest/remote-write.js'
import { KnownBytes } from '../../../core/index.js'
import { generatedWriteRequests, remoteWriteBody } from '../../helpers/remote-write-requests.js'

const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')
const TS = Date.parse('2026-11-30T10:00:00Z')

type Labels = Record<string, string>
const series = (labels: Labels, ...samples: Array<[value: number, ts: number]>) => ({
  labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
  samples: samples.map(([value, timestamp]) => ({ value, timestamp })),
})
/** A request's batches as keyed samples, batch by batch. */
const samplesOf = (decoded: DecodedRequest) =>
  decoded.batches.flatMap((batch) => samplesOfBatch(batch.value).map((value) => ({ key: batch.key, value })))
const decode = (decoder: RemoteWriteDecoder, message: object) => {
  const decoded = decoder.decode(remoteWriteBody(message), 1 << 24)
  return { ...decoded, samples: samplesOf(decoded) }
}

const cart = { __name__: 'http_requests_total', namespace: 'shop', pod: 'cart-6d4cf56db6-x7k2p', code: '200' }

describe('RemoteWriteDecoder', () => {
  it('gives a series sent again the labels it decoded the first time, and new labels a new series', () => {
    const decoder = new RemoteWriteDecoder('c1')
    const first = decode(decoder, { timeseries: [series(cart, [1, TS])] }).samples
    const again = decode(decoder, {
      timeseries: [series(cart, [2, TS + 15_000]), series({ ...cart, code: '500' }, [3, TS + 15_000])],
    }).samples
    expect(again[0]?.value.labels).toBe(first[0]?.value.labels)
    expect(again.map((s) => [s.value.labels.code, s.value.value, s.value.ts])).toEqual([
      ['200', 2, TS + 15_000],
      ['500', 3, TS + 15_000],
    ])
    expect(again[0]?.key).toBe('c1/shop/Deployment/cart')
    expect(again[0]?.value).toMatchObject({ cluster: 'c1', namespace: 'shop', workload: { name: 'cart' } })
    // Shared by every sample of the series, so no sample may change them.
    expect(Object.isFrozen(again[0]?.value.labels)).toBe(true)
  })

  it('reads series whose fields are out of the usual order, and metadata sent after the series', () => {
    // Hand-written wire: a label after the samples, as protobuf allows and Prometheus never sends.
    const label = (name: string, value: string) => {
      const w = protobuf.Writer.create()
      w.uint32(10).string(name).uint32(18).string(value)
      return w.finish()
    }
    const sample = protobuf.Writer.create().uint32(9).double(7).uint32(16).int64(TS).finish()
    const timeSeries = protobuf.Writer.create()
      .uint32(10)
      .bytes(label('__name__', 'queue_depth'))
      .uint32(18)
      .bytes(sample)
      .uint32(10)
      .bytes(label('pod', 'worker-0'))
      .finish()
    const metadata = protobuf.Writer.create().uint32(8).int32(2).uint32(18).string('queue_depth').finish()
    const request = protobuf.Writer.create().uint32(10).bytes(timeSeries).uint32(26).bytes(metadata).finish()
    const samples = samplesOf(
      new RemoteWriteDecoder('c1').decode(compressSync(Buffer.from(request)), 1 << 20),
    )
    expect(samples.map((s) => s.value)).toEqual([
      expect.objectContaining({
        name: 'queue_depth',
        labels: { pod: 'worker-0' },
        type: 'gauge',
        value: 7,
        ts: TS,
        workload: { kind: 'StatefulSet', name: 'worker' },
      }),
    ])
  })

  it('skips pause-container series and non-finite values, and counts native histograms', () => {
    const decoder = new RemoteWriteDecoder('c1')
    const { samples, skipped } = decode(decoder, {
      timeseries: [
        series({ __name__: 'container_memory_working_set_bytes', pod: 'p', container: 'POD' }, [1, TS]),
        series({ __name__: 'up' }, [Number.NaN, TS], [1, TS + 1]),
        { ...series({ __name__: 'latency' }), histograms: [{ timestamp: TS }, { timestamp: TS }] },
      ],
    })
    expect(samples.map((s) => [s.value.name, s.value.ts])).toEqual([['up', TS + 1]])
    expect(skipped).toBe(2)
  })

  it('reads lengths and times that take several varint bytes', () => {
    // A 20,000-character label makes the series' and the label's lengths three bytes long.
    const long = { ...cart, trace: 'x'.repeat(20_000) }
    const { samples } = decode(new RemoteWriteDecoder('c1'), {
      timeseries: [series(long, [1.5, TS]), series(cart, [2, 2 ** 52])],
    })
    expect(samples.map((s) => [s.value.labels.trace?.length, s.value.value, s.value.ts])).toEqual([
      [20_000, 1.5, TS],
      [undefined, 2, 2 ** 52],
    ])
  })

  it("puts a key's points in batches of at most MAX_BATCH_POINTS, each naming its series once", () => {
    const points = (from: number, n: number) =>
      Array.from({ length: n }, (_, i): [number, number] => [i, TS + (from + i) * 1000])
    const perSeries = Math.ceil(MAX_BATCH_POINTS / 2) + 7
    const decoded = decode(new RemoteWriteDecoder('c1'), {
      timeseries: [
        series(cart, ...points(0, perSeries)),
        series({ ...cart, code: '500' }, ...points(0, perSeries)),
        series({ __name__: 'up', namespace: 'pay', pod: 'db-0' }, ...points(0, 3)),
      ],
    })
    expect(decoded.samples).toHaveLength(2 * perSeries + 3)
    const counts = decoded.batches.map((b) => [b.key, b.value.ts.length, b.records, b.value.series.length])
    expect(counts).toEqual([
      ['c1/shop/Deployment/cart', MAX_BATCH_POINTS, MAX_BATCH_POINTS, 2],
      ['c1/shop/Deployment/cart', 2 * perSeries - MAX_BATCH_POINTS, 2 * perSeries - MAX_BATCH_POINTS, 1],
      ['c1/pay/StatefulSet/db', 3, 3, 1],
    ])
    // The second series' points went on in the next batch, in order.
    const errors = decoded.samples.filter((s) => s.value.labels.code === '500').map((s) => s.value.ts)
    expect(errors).toEqual(points(0, perSeries).map(([, ts]) => ts))
  })

  it('refuses what is not a valid request, known series or not', () => {
    const decoder = new RemoteWriteDecoder('c1')
    decode(decoder, { timeseries: [series(cart, [1, TS])] })
    const refusals: Array<[object, RegExp]> = [
      [{ timeseries: [series(cart, [1, -TS])] }, /no valid timestamp/],
      [{ timeseries: [series(cart, [1, 0])] }, /no valid timestamp/],
      [{ timeseries: [series({ job: 'x' }, [1, TS])] }, /no __name__/],
      [{ timeseries: [series({ '': 'x', __name__: 'up' }, [1, TS])] }, /label has no name/],
    ]
    for (const [message, reason] of refusals)
      expect(() => decode(decoder, message)).toThrow(
        expect.objectContaining({ code: 'ARGUS_ERR_BAD_INPUT', message: expect.stringMatching(reason) }),
      )
    const good = Buffer.from(
      WriteRequest.encode(WriteRequest.fromObject({ timeseries: [series(cart, [1, TS])] })).finish(),
    )
    for (let cut = 1; cut < good.length; cut++)
      expect(() => decoder.decode(compressSync(good.subarray(0, cut)), 1 << 20)).toThrow(
        expect.objectContaining({ code: 'ARGUS_ERR_BAD_INPUT' }),
      )
  })
})

/** What KnownBytes hashes: a view of the whole buffer. */
const viewOf = (bytes: Buffer): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

describe('KnownBytes', () => {
  const wire = (text: string) => Buffer.from(`..${text}..`)
  const range = (text: string) => [2, 2 + Buffer.byteLength(text)] as const

  it('finds a series by its bytes, and tells two series with one hash apart by their bytes', () => {
    const known = new KnownBytes<string>(10)
    const a = wire('labels-a')
    known.remember(known.hashOf(viewOf(a), ...range('labels-a')), a, ...range('labels-a'), 'A')
    expect(
      known.find(known.hashOf(viewOf(a), ...range('labels-a')), wire('labels-a'), ...range('labels-a')),
    ).toBe('A')
    // Another series under A's hash, as a collision would put it: not A.
    const hashOfA = known.hashOf(viewOf(a), ...range('labels-a'))
    expect(known.find(hashOfA, wire('labels-b'), ...range('labels-b'))).toBeUndefined()
    // The remembered bytes are a copy: a reused request buffer cannot change them.
    a.write('XXXXXXXX', 2)
    expect(known.find(hashOfA, wire('labels-a'), ...range('labels-a'))).toBe('A')
    // Remembered under A's hash too, B is chained beside A: neither pushes the other out.
    known.remember(hashOfA, wire('labels-b'), ...range('labels-b'), 'B')
    expect(known.find(hashOfA, wire('labels-b'), ...range('labels-b'))).toBe('B')
    expect(known.find(hashOfA, wire('labels-a'), ...range('labels-a'))).toBe('A')
    expect(known.size).toBe(2)
  })

  it('keeps one entry for bytes remembered again, so that repeats do not cycle the generations', () => {
    const known = new KnownBytes<number>(10)
    const a = wire('labels-a')
    const hashOfA = known.hashOf(viewOf(a), ...range('labels-a'))
    known.remember(hashOfA, a, ...range('labels-a'), 0)
    // A chunk of one new pod's lines misses it on every line, then remembers it for each.
    for (let i = 1; i <= 1_000; i++) known.remember(hashOfA, wire('labels-a'), ...range('labels-a'), i)
    expect(known.size).toBe(1)
    expect(known.find(hashOfA, a, ...range('labels-a'))).toBe(1_000)
  })

  it('hashes the same bytes alike wherever they sit in a buffer', () => {
    const known = new KnownBytes<string>(10)
    const text = 'a series of labels longer than one eight-byte step'
    const hashes = new Set<number>()
    for (let offset = 0; offset < 9; offset++) {
      const bytes = Buffer.concat([Buffer.alloc(offset, 0x2e), Buffer.from(text)])
      hashes.add(known.hashOf(viewOf(bytes), offset, bytes.length))
      // A view into a larger buffer at an odd offset reads the same bytes.
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).subarray(offset)
      hashes.add(known.hashOf(viewOf(view), 0, view.length))
    }
    expect(hashes.size).toBe(1)
    const other = Buffer.from(text.replace('eight', 'Eight'))
    expect(hashes.has(known.hashOf(viewOf(other), 0, other.length))).toBe(false)
  })

  it('keeps at most two generations, and keeps the series that are still sent', () => {
    const known = new KnownBytes<number>(100)
    const remember = (i: number) => {
      const text = `series-${i}`
      const bytes = wire(text)
      const hash = known.hashOf(viewOf(bytes), ...range(text))
      if (known.find(hash, bytes, ...range(text)) === undefined)
        known.remember(hash, bytes, ...range(text), i)
    }
    for (let i = 0; i < 1_000; i++) {
      remember(i)
      remember(0) // sent all along
    }
    expect(known.size).toBeLessThanOrEqual(200)
    const zero = wire('series-0')
    expect(known.find(known.hashOf(viewOf(zero), ...range('series-0')), zero, ...range('series-0'))).toBe(0)
    const early = wire('series-5')
    expect(
      known.find(known.hashOf(viewOf(early), ...range('series-5')), early, ...range('series-5')),
    ).toBeUndefined()
  })
})

describe('RemoteWriteDecoder against protobufjs decoding', () => {
  it('gives what decoding whole messages gives, series ids too, on 300 generated requests that repeat and retype series', () => {
    const decoder = new RemoteWriteDecoder('c1')
    for (const message of generatedWriteRequests(5, 300, TS)) {
      const metadata = message.metadata
      // The reference: protobufjs's whole decode, then the mapping text scrapes use.
      const decoded = WriteRequest.toObject(
        WriteRequest.decode(WriteRequest.encode(WriteRequest.fromObject(message)).finish()),
        { longs: Number },
      ) as {
        timeseries?: Array<{
          labels?: Array<{ name: string; value: string }>
          samples?: Array<{ value?: number; timestamp: number }>
        }>
      }
      const expected = (decoded.timeseries ?? []).flatMap((s) => {
        const all = Object.fromEntries((s.labels ?? []).map((l) => [l.name, l.value ?? '']))
        const { __name__: name, ...labels } = all
        return toMetricSamples(
          (s.samples ?? []).map((sample) => ({
            name: name as string,
            labels,
            value: sample.value ?? 0,
            timestampMs: sample.timestamp,
            type:
              metadata.length > 0 && name === 'http_requests_total'
                ? ('counter' as const)
                : ('untyped' as const),
          })),
          { cluster: 'c1', now: 0 },
        ).map((sample) => ({ ...sample, seriesId: metricSeriesId(sample) }))
      })
      // Batches group a request's samples by key, each key's in the request's order.
      const byKey = <T>(items: T[], keyOf: (item: T) => string) =>
        items.map((item) => [keyOf(item), item] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      const samples = decode(decoder, message).samples
      expect(byKey(samples, (s) => s.key).map(([key, s]) => [key, s.value])).toEqual(
        byKey(expected, (s) => partitionKey(s)),
      )
    }
  })
})
