import { gzipSync } from 'node:zlib'
import { encode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { TOPICS, sleep, type LogRecord } from '../../core/index.js'
import { fluentHttpSource } from '../../ingest/index.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { seededRandom } from '../helpers/seeded-random.js'

// The HTTP log intake (JSON, NDJSON, msgpack, gzip) against 10,000 malformed or truncated bodies,
// with good requests in between: every bad one gets a 4xx with a reason and is counted, and every
// good record is kept.
describe('log intake under malformed input', () => {
  it('answers 4xx to each broken body, counts it, and loses no good record', async () => {
    const harness = intakeHarness()
    const stored = await harness.collect<LogRecord>(TOPICS.logs)
    const app = await harness.server(
      [
        fluentHttpSource({
          intake: harness.intake,
          metrics: harness.metrics,
          bodyLimitBytes: 64 * 1024,
          resendWaitMs: 100,
        }),
      ],
      64 * 1024,
    )
    const { next: random, bytes } = seededRandom(17)
    const record = JSON.stringify({ log: 'fine', kubernetes: { namespace_name: 'ns', pod_name: 'p' } })
    const shapes: Array<() => { payload: Buffer | string; type: string; encoding?: string }> = [
      () => ({ payload: bytes(1 + Math.floor(random() * 100)), type: 'application/json' }),
      () => ({
        payload: `[${record},${record}`.slice(0, Math.floor(random() * 60) + 1),
        type: 'application/json',
      }),
      () => ({ payload: `${record}\n{"log": 42}\n${record.slice(0, 10)}`, type: 'application/x-ndjson' }),
      () => ({ payload: bytes(20), type: 'application/json', encoding: 'gzip' }),
      () => ({ payload: gzipSync(Buffer.from(`[${record}`)), type: 'application/json', encoding: 'gzip' }),
      () => ({ payload: bytes(1 + Math.floor(random() * 50)), type: 'application/msgpack' }),
      () => ({
        payload: Buffer.from(encode({ log: 'cut short' })).subarray(0, 5),
        type: 'application/msgpack',
      }),
      () => ({ payload: '{"message": ["not", "text"]}', type: 'application/json' }),
      () => ({ payload: record, type: 'application/json', encoding: 'br' }),
      () => ({ payload: gzipSync(Buffer.alloc(200 * 1024, 32)), type: 'application/json', encoding: 'gzip' }),
    ]
    let goodSent = 0
    for (let i = 0; i < 10_000; i++) {
      const { payload, type, encoding } = (shapes[i % shapes.length] as (typeof shapes)[number])()
      const response = await app.inject({
        method: 'POST',
        url: '/ingest/logs',
        payload,
        headers: { 'content-type': type, ...(encoding && { 'content-encoding': encoding }) },
      })
      expect(response.statusCode, `body ${i % shapes.length}`).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(response.json()).toMatchObject({ error: { code: expect.stringMatching(/^ARGUS_ERR_/) } })
      if (i % 500 === 0) {
        const good = await app.inject({
          method: 'POST',
          url: '/ingest/logs',
          payload: `[${record},${record}]`,
          headers: { 'content-type': 'application/json' },
        })
        expect(good.statusCode).toBe(202)
        goodSent += 2
      }
    }
    const counted =
      (await harness.metricTotal(/^argus_ingest_malformed_total\{/)) +
      (await harness.metricTotal(/^argus_ingest_signals_total\{kind="log",outcome="rejected"\}/)) +
      // An identical broken body sent again is answered from memory, and counted as a repeat.
      (await harness.metricTotal(/^argus_ingest_repeated_requests_total /))
    expect(counted).toBeGreaterThanOrEqual(10_000)
    // The good records, and the valid records inside partly broken NDJSON bodies, are all there.
    while (stored.filter((r) => r.message === 'fine').length < goodSent) await sleep(10)
    await harness.stop()
  }, 120_000)
})
