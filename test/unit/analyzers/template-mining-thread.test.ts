import { afterEach, describe, expect, it } from 'vitest'
import { createMetricsRegistry } from '../../../core/index.js'
import { LogTemplateMiner } from '../../../analyzers/log-template-miner.js'
import { createTemplateMiningThread, type TemplateMining } from '../../../analyzers/template-mining-thread.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

/** Lines of a few events whose variable parts change, so templates form and generalise. */
function lines(from: number, count: number): string[] {
  const events = [
    (n: number) => `GET /api/cart/${n} 200 in ${n % 90}ms`,
    (n: number) =>
      `user ${['alice', 'bob', 'carol', 'dave', 'erin'][n % 5]} logged in from 10.0.${n % 7}.${n % 250}`,
    (n: number) => `Disk /dev/sda${n % 3} is ${n % 100}% full`,
    (n: number) => `worker ${n % 4} RUNNING task ${n.toString(16)}`,
    (n: number) => `worker ${n % 4} STOPPED task ${n.toString(16)}`,
  ]
  return Array.from({ length: count }, (_, i) =>
    (events[(from + i) % events.length] as (n: number) => string)(from + i),
  )
}

describe('template mining thread', () => {
  let mining: TemplateMining | undefined
  afterEach(async () => {
    await mining?.stop()
    mining = undefined
  })

  it('gives the ids one miner gives the same lines in order, however many batches are in flight', async () => {
    const metrics = createMetricsRegistry()
    mining = createTemplateMiningThread({ logger: quietLogger(), metrics })
    await mining.start()
    const batches = Array.from({ length: 40 }, (_, b) => lines(b * 50, 50))
    // All sent before any answer: the thread must answer each batch, in the order sent.
    const answers = await Promise.all(batches.map((batch) => (mining as TemplateMining).templateIds(batch)))
    const reference = new LogTemplateMiner()
    expect(answers).toEqual(batches.map((batch) => batch.map((line) => reference.templateIdOf(line))))
    expect(new Set(answers.flat()).size).toBe(5)
    // Every line went to the thread, none was mined here.
    expect((await metrics.getSingleMetricAsString('argus_template_mining_inline_total')).trim()).toMatch(
      / 0$/,
    )
    expect(await metrics.getSingleMetricAsString('argus_template_mining_thread_failures_total')).toMatch(
      / 0$/m,
    )
  })

  it('mines what a dead thread still owed, and everything after, on the calling thread', async () => {
    const metrics = createMetricsRegistry()
    mining = createTemplateMiningThread({
      logger: quietLogger(),
      metrics,
      workerEntry: new URL('../../fixtures/workers/failing-mining-worker.ts', import.meta.url),
    })
    await mining.start()
    const batches = [lines(0, 30), lines(30, 30)]
    // The thread exits on the first of these: both are answered all the same, in order.
    const answers = await Promise.all(batches.map((batch) => (mining as TemplateMining).templateIds(batch)))
    const after = await mining.templateIds(lines(60, 10))
    const reference = new LogTemplateMiner()
    expect([...answers, after]).toEqual(
      [...batches, lines(60, 10)].map((batch) => batch.map((line) => reference.templateIdOf(line))),
    )
    expect(await metrics.getSingleMetricAsString('argus_template_mining_inline_total')).toMatch(/ 70$/m)
    // It did start, and then died: counted once.
    expect(await metrics.getSingleMetricAsString('argus_template_mining_thread_failures_total')).toMatch(
      / 1$/m,
    )
  })

  it('mines on the calling thread, with the same ids, when the thread is not running', async () => {
    const metrics = createMetricsRegistry()
    mining = createTemplateMiningThread({ logger: quietLogger(), metrics })
    const batch = lines(0, 20)
    const reference = new LogTemplateMiner()
    expect(await mining.templateIds(batch)).toEqual(batch.map((line) => reference.templateIdOf(line)))
    expect(await mining.templateIds([])).toEqual([])
    await mining.start()
    await mining.stop()
    expect(await mining.templateIds(['after stop 1'])).toHaveLength(1)
    expect(await metrics.getSingleMetricAsString('argus_template_mining_inline_total')).toMatch(/ 21$/m)
  })

  it('keeps the ids right as the thread numbers them again, and when a new thread starts', async () => {
    const metrics = createMetricsRegistry()
    // Five templates, numbered again after every two: the lists of both threads start over often.
    mining = createTemplateMiningThread({ logger: quietLogger(), metrics, maxNumberedIds: 2 })
    await mining.start()
    const reference = new LogTemplateMiner()
    const batches = Array.from({ length: 12 }, (_, b) => lines(b * 7, 7))
    const answers = await Promise.all(batches.map((batch) => (mining as TemplateMining).templateIds(batch)))
    expect(answers).toEqual(batches.map((batch) => batch.map((line) => reference.templateIdOf(line))))
    // A new thread has a new miner and numbers from 0: ids as a new miner gives them.
    await mining.stop()
    await mining.start()
    const fresh = new LogTemplateMiner()
    const after = lines(500, 20)
    expect(await mining.templateIds(after)).toEqual(after.map((line) => fresh.templateIdOf(line)))
    expect(await metrics.getSingleMetricAsString('argus_template_mining_inline_total')).toMatch(/ 0$/m)
  })
})
