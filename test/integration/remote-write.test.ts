import { compressSync } from 'snappy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOPICS, createMetricsRegistry, sleep, type MetricBatch } from '../../core/index.js'
import { samplesOfBatch } from '../helpers/metric-batch-samples.js'
import { REMOTE_WRITE_PROTO, createRemoteWriteThread, remoteWriteSource } from '../../ingest/index.js'
import { quietLogger } from '../helpers/quiet-logger.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { seededRandom } from '../helpers/seeded-random.js'

// remote_write requests built with protobufjs (the encoder Prometheus-compatible JS senders use)
// and compressed with snappy, as Prometheus sends them, into the real intake and bus.
const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')
// Decoded on a thread of its own, as the app decodes (the calling thread's decoder is what the unit
// tests and the thread's fallback use).
const decodingMetrics = createMetricsRegistry({ defaultMetrics: false })
const decoding = createRemoteWriteThread({ cluster: 'c1', logger: quietLogger(), metrics: decodingMetrics })
const harness = intakeHarness('c1', { decodeRemoteWrite: (body, limit) => decoding.decode(body, limit) })
let batches: MetricBatch[] = []
/** The samples published so far, as the batches hold them. */
const published = () => batches.flatMap(samplesOfBatch)
let app: Awaited<ReturnType<typeof harness.server>>

function writeRequest(message: object): Buffer {
  const error = WriteRequest.verify(message)
  if (error) throw new Error(error)
  return compressSync(Buffer.from(WriteRequest.encode(WriteRequest.fromObject(message)).finish()))
}

const post = (payload: Buffer) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/write',
    payload,
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
    },
  })

beforeAll(async () => {
  await decoding.start()
  batches = await harness.collect<MetricBatch>(TOPICS.metricBatches)
  app = await harness.server([
    remoteWriteSource({ intake: harness.intake, metrics: harness.metrics, bodyLimitBytes: 1 << 20 }),
  ])
})

afterAll(async () => {
  await harness.stop()
  await decoding.stop()
})

describe('Prometheus remote_write', () => {
  it('stores every sample with its labels, time and the type from metadata', async () => {
    const ts = Date.parse('2026-11-24T10:00:00Z')
    const response = await post(
      writeRequest({
        timeseries: [
          {
            labels: [
              { name: '__name__', value: 'http_requests_total' },
              { name: 'namespace', value: 'shop' },
              { name: 'pod', value: 'cart-6d4cf56db6-x7k2p' },
              { name: 'code', value: '500' },
            ],
            samples: [
              { value: 10, timestamp: ts },
              { value: 12, timestamp: ts + 15_000 },
            ],
          },
          {
            labels: [
              { name: '__name__', value: 'container_memory_working_set_bytes' },
              { name: 'namespace', value: 'shop' },
              { name: 'pod', value: 'cart-6d4cf56db6-x7k2p' },
              { name: 'container', value: 'cart' },
            ],
            samples: [{ value: 1.5e8, timestamp: ts }],
          },
        ],
        metadata: [
          { type: 1, metric_family_name: 'http_requests_total', help: 'requests' },
          { type: 2, metric_family_name: 'container_memory_working_set_bytes', help: 'memory' },
        ],
      }),
    )
    expect(response.statusCode).toBe(204)
    while (published().length < 3) await sleep(10)
    const samples = published()
    const requests = samples.filter((s) => s.name === 'http_requests_total')
    expect(requests.map((s) => [s.ts, s.value])).toEqual([
      [ts, 10],
      [ts + 15_000, 12],
    ])
    expect(requests[0]).toMatchObject({
      cluster: 'c1',
      type: 'counter',
      namespace: 'shop',
      pod: 'cart-6d4cf56db6-x7k2p',
      workload: { kind: 'Deployment', name: 'cart' },
      labels: { code: '500', namespace: 'shop', pod: 'cart-6d4cf56db6-x7k2p' },
    })
    expect(samples.find((s) => s.name === 'container_memory_working_set_bytes')).toMatchObject({
      type: 'gauge',
      container: 'cart',
      value: 1.5e8,
    })
  })

  it('answers 400 with a reason to 10,000 malformed or truncated bodies, counts them, and keeps serving', async () => {
    const good = writeRequest({
      timeseries: [
        {
          labels: [{ name: '__name__', value: 'up' }],
          samples: [{ value: 1, timestamp: Date.now() }],
        },
      ],
    })
    const raw = Buffer.from(
      WriteRequest.encode(
        WriteRequest.fromObject({
          timeseries: [
            { labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 1, timestamp: 5 }] },
          ],
        }),
      ).finish(),
    )
    const { next: random, bytes } = seededRandom(11)
    const shapes: Array<() => Buffer> = [
      () => bytes(1 + Math.floor(random() * 80)),
      () => good.subarray(0, Math.max(1, Math.floor(random() * good.length))),
      () => compressSync(raw.subarray(0, Math.max(1, Math.floor(random() * raw.length)))),
      () => raw, // protobuf without snappy
      () => compressSync(Buffer.from('not a protobuf message at all \xff\xff')),
      () =>
        writeRequest({
          timeseries: [{ labels: [{ name: 'job', value: 'x' }], samples: [{ value: 1, timestamp: 1 }] }],
        }),
      () =>
        writeRequest({
          timeseries: [{ labels: [{ name: '__name__', value: 'up' }], samples: [{ value: 1 }] }],
        }),
      () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), // claims 34 GB uncompressed
    ]
    const before = published().length
    let bad = 0
    for (let i = 0; i < 10_000; i++) {
      const response = await post((shapes[i % shapes.length] as () => Buffer)())
      if (response.statusCode === 204) continue // random bytes can form a valid empty request
      expect([400, 413]).toContain(response.statusCode)
      expect(response.json()).toMatchObject({ error: { code: 'ARGUS_ERR_BAD_INPUT' } })
      bad++
    }
    expect(bad).toBeGreaterThan(9_000)
    // Every body went to the decoding thread, which stayed up.
    expect(await decodingMetrics.getSingleMetricAsString('argus_remote_write_inline_total')).toMatch(/ 0$/m)
    expect(await harness.metricTotal(/^argus_remote_write_rejected_total /)).toBe(bad)
    expect((await post(good)).statusCode).toBe(204)
    while (published().length === before) await sleep(10)
    expect(
      published()
        .slice(before)
        .map((s) => s.name),
    ).toContain('up')
  }, 120_000)
})
