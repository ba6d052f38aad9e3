import { afterEach, describe, expect, it } from 'vitest'
import { createMetricsRegistry, type Registry } from '../../../core/index.js'
import {
  RemoteWriteDecoder,
  createRemoteWriteThread,
  type RemoteWriteDecoding,
} from '../../../ingest/index.js'
import type { DecodedRequest } from '../../../ingest/remote-write.js'
import { generatedWriteRequests, remoteWriteBody } from '../../helpers/remote-write-requests.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

const TS = Date.parse('2026-11-30T10:00:00Z')
const LIMIT = 1 << 24
/** 120 requests whose series repeat and are retyped, and what one decoder makes of them in order. */
const bodies = generatedWriteRequests(11, 120, TS).map(remoteWriteBody)
const reference = (): DecodedRequest[] => {
  const decoder = new RemoteWriteDecoder('c1')
  return bodies.map((body) => decoder.decode(body, LIMIT))
}
/** Each series named, as the place it was first named by the same object: which batches share it. */
const sharing = (answers: DecodedRequest[]): number[] => {
  const seen = new Map<object, number>()
  return answers
    .flatMap((answer) => answer.batches.flatMap((batch) => batch.value.series))
    .map((series) => {
      if (!seen.has(series)) seen.set(series, seen.size)
      return seen.get(series) as number
    })
}
const counted = async (metrics: Registry, name: string): Promise<number> =>
  Number((await metrics.getSingleMetricAsString(name)).match(/ (\d+)$/m)?.[1])

describe('remote_write decoding thread', () => {
  let decoding: RemoteWriteDecoding | undefined
  afterEach(async () => {
    await decoding?.stop()
    decoding = undefined
  })

  it('gives what one decoder gives the same requests in order, however many are in flight', async () => {
    const metrics = createMetricsRegistry()
    decoding = createRemoteWriteThread({ cluster: 'c1', logger: quietLogger(), metrics })
    await decoding.start()
    // All sent before any answer: the thread must answer each, in the order sent.
    const answers = await Promise.all(
      bodies.map((body) => (decoding as RemoteWriteDecoding).decode(body, LIMIT)),
    )
    const expected = reference()
    expect(answers).toEqual(expected)
    expect(answers.reduce((sum, answer) => sum + answer.samples, 0)).toBeGreaterThan(500)
    // A series crosses once and is then shared by every batch that names it, as the decoder shares it.
    expect(sharing(answers)).toEqual(sharing(expected))
    const first = answers[0]?.batches[0]?.value.series
    expect(Object.isFrozen(first?.[0])).toBe(true)
    expect(Object.isFrozen(first?.[0]?.labels)).toBe(true)
    expect(await counted(metrics, 'argus_remote_write_inline_total')).toBe(0)
    expect(await counted(metrics, 'argus_remote_write_thread_failures_total')).toBe(0)
  })

  it('refuses a bad body with the error the decoder gives, and goes on with the next', async () => {
    decoding = createRemoteWriteThread({
      cluster: 'c1',
      logger: quietLogger(),
      metrics: createMetricsRegistry(),
    })
    await decoding.start()
    const good = bodies[0] as Buffer
    const [truncated, tooLarge, after] = await Promise.allSettled([
      decoding.decode(good.subarray(0, good.length - 3), LIMIT),
      decoding.decode(good, 16),
      decoding.decode(good, LIMIT),
    ])
    expect(truncated).toMatchObject({
      status: 'rejected',
      reason: { code: 'ARGUS_ERR_BAD_INPUT', message: expect.stringMatching(/snappy|WriteRequest/) },
    })
    // The status the API answers with crosses too.
    expect(tooLarge).toMatchObject({
      status: 'rejected',
      reason: { code: 'ARGUS_ERR_BAD_INPUT', details: { status: 413 } },
    })
    expect(after).toEqual({ status: 'fulfilled', value: reference()[0] })
  })

  it('decodes what a dead thread still owed, and everything after, on the calling thread', async () => {
    const metrics = createMetricsRegistry()
    decoding = createRemoteWriteThread({
      cluster: 'c1',
      logger: quietLogger(),
      metrics,
      workerEntry: new URL('../../fixtures/workers/failing-remote-write-worker.ts', import.meta.url),
    })
    await decoding.start()
    // The thread exits on the first of these: all are answered all the same, in order.
    const answers = await Promise.all(
      bodies.slice(0, 3).map((body) => (decoding as RemoteWriteDecoding).decode(body, LIMIT)),
    )
    const after = await decoding.decode(bodies[3] as Buffer, LIMIT)
    expect([...answers, after]).toEqual(reference().slice(0, 4))
    expect(await counted(metrics, 'argus_remote_write_inline_total')).toBe(4)
    // It did start, and then died: counted once.
    expect(await counted(metrics, 'argus_remote_write_thread_failures_total')).toBe(1)
  })

  it('decodes on the calling thread, alike, when the thread is not running', async () => {
    const metrics = createMetricsRegistry()
    decoding = createRemoteWriteThread({ cluster: 'c1', logger: quietLogger(), metrics })
    const expected = reference()
    expect(await decoding.decode(bodies[0] as Buffer, LIMIT)).toEqual(expected[0])
    await expect(decoding.decode(Buffer.from('no snappy'), LIMIT)).rejects.toMatchObject({
      code: 'ARGUS_ERR_BAD_INPUT',
    })
    await decoding.start()
    await decoding.stop()
    expect(await decoding.decode(bodies[1] as Buffer, LIMIT)).toEqual(expected[1])
    expect(await counted(metrics, 'argus_remote_write_inline_total')).toBe(3)
  })

  it('keeps the series right as the thread numbers them again, and when a new thread starts', async () => {
    // Numbered again after every three series: both lists start over often.
    decoding = createRemoteWriteThread({
      cluster: 'c1',
      logger: quietLogger(),
      metrics: createMetricsRegistry(),
      maxNumberedSeries: 3,
    })
    await decoding.start()
    const expected = reference()
    const answers = await Promise.all(
      bodies.map((body) => (decoding as RemoteWriteDecoding).decode(body, LIMIT)),
    )
    expect(answers).toEqual(expected)
    await decoding.stop()
    await decoding.start()
    // A new thread has a new decoder: a series it has not seen is decoded afresh, with the same result.
    expect(await decoding.decode(bodies[7] as Buffer, LIMIT)).toEqual(expected[7])
  })

  it('refuses a request as overloaded, counted, while too many bytes wait for the thread', async () => {
    const metrics = createMetricsRegistry()
    const body = bodies[0] as Buffer
    decoding = createRemoteWriteThread({
      cluster: 'c1',
      logger: quietLogger(),
      metrics,
      maxPendingBytes: body.length - 1,
    })
    await decoding.start()
    // The first fits though it is over the bound (with nothing waiting, one body always fits);
    // the second would wait behind it.
    const results = await Promise.allSettled([decoding.decode(body, LIMIT), decoding.decode(body, LIMIT)])
    expect(results[0]).toEqual({ status: 'fulfilled', value: reference()[0] })
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { code: 'ARGUS_ERR_OVERLOADED', retriable: true },
    })
    expect(await counted(metrics, 'argus_remote_write_overloaded_total')).toBe(1)
    // Once the first is answered, there is room again.
    expect(await decoding.decode(body, LIMIT)).toEqual(reference()[0])
  })
})
