import { afterEach, describe, expect, it } from 'vitest'
import { ArgusError, DEAD_LETTER_HEADERS, TOPICS, createMetricsRegistry, sleep } from '../../../core/index.js'
import { createInProcessBus, type Bus, type MessageBatch } from '../../../bus/index.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 }
let buses: Bus[] = []

function newBus(partitions = 4, partitionCapacity = 1000): Bus {
  const bus = createInProcessBus({
    logger: quietLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    partitions,
    partitionCapacity,
  })
  buses.push(bus)
  return bus
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(2)
  }
}

afterEach(async () => {
  await Promise.all(buses.map((b) => b.stop()))
  buses = []
})

describe('in-process bus', () => {
  it('keeps per-key order across many keys and partitions', async () => {
    const bus = newBus(4)
    const seen = new Map<string, number[]>()
    await bus.subscribe<{ n: number }>({
      group: 'g',
      topics: ['t'],
      maxBatchSize: 7,
      handler: async (batch) => {
        for (const m of batch.messages) seen.set(m.key, [...(seen.get(m.key) ?? []), m.value.n])
      },
    })
    for (let round = 0; round < 20; round++) {
      await bus.publish(
        't',
        ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, value: { n: round } })),
      )
    }
    expect(await bus.drain(5000)).toBe(true)
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect(seen.get(key)).toEqual([...Array(20).keys()])
  })

  it('redelivers the same range with the same dedup token until the handler succeeds', async () => {
    const bus = newBus(1)
    const deliveries: MessageBatch[] = []
    let failuresLeft = 2
    await bus.subscribe({
      group: 'g',
      topics: ['t'],
      retry: fastRetry,
      handler: async (batch) => {
        deliveries.push(batch)
        if (failuresLeft-- > 0)
          throw new ArgusError('ARGUS_ERR_STORAGE_UNAVAILABLE', 'down', { retriable: true })
      },
    })
    await bus.publish(
      't',
      [1, 2, 3].map((n) => ({ key: 'k', value: n })),
    )
    expect(await bus.drain(5000)).toBe(true)
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2, 3])
    expect(new Set(deliveries.map((d) => d.dedupToken)).size).toBe(1)
    expect(deliveries.every((d) => d.firstOffset === 0 && d.lastOffset === 2)).toBe(true)
  })

  it('dead-letters a batch after the retry budget, with the error in headers, and moves on', async () => {
    const bus = newBus(1)
    const deadLetters: MessageBatch[] = []
    const handled: number[] = []
    await bus.subscribe({
      group: 'dlq-reader',
      topics: [TOPICS.deadLetter],
      handler: async (b) => void deadLetters.push(b),
    })
    await bus.subscribe<number>({
      group: 'g',
      topics: ['t'],
      maxBatchSize: 1,
      retry: { ...fastRetry, maxAttempts: 3 },
      handler: async (batch) => {
        const value = batch.messages[0]?.value as number
        if (value === 2) throw new Error('poison')
        handled.push(value)
      },
    })
    await bus.publish(
      't',
      [1, 2, 3].map((n) => ({ key: 'k', value: n })),
    )
    expect(await bus.drain(5000)).toBe(true)
    expect(handled).toEqual([1, 3])
    const dead = deadLetters.flatMap((b) => b.messages)
    expect(dead).toHaveLength(1)
    expect(dead[0]?.value).toBe(2)
    expect(dead[0]?.headers?.[DEAD_LETTER_HEADERS.errorMessage]).toBe('poison')
    expect(dead[0]?.headers?.[DEAD_LETTER_HEADERS.attempts]).toBe('3')
    expect(dead[0]?.headers?.[DEAD_LETTER_HEADERS.originalTopic]).toBe('t')
  })

  it('sends a permanent failure to the dead-letter topic without retrying', async () => {
    const bus = newBus(1)
    let attempts = 0
    const dead: unknown[] = []
    await bus.subscribe({
      group: 'd',
      topics: [TOPICS.deadLetter],
      handler: async (b) => void dead.push(...b.messages),
    })
    await bus.subscribe({
      group: 'g',
      topics: ['t'],
      retry: fastRetry,
      handler: async () => {
        attempts++
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'cannot ever work')
      },
    })
    await bus.publish('t', [{ key: 'k', value: 1 }])
    expect(await bus.drain(5000)).toBe(true)
    expect(attempts).toBe(1)
    expect(dead).toHaveLength(1)
  })

  it('gives every group every message, and splits partitions among members of one group', async () => {
    const bus = newBus(4)
    const groupA: number[] = []
    const member1 = new Set<number>()
    const member2 = new Set<number>()
    const groupB: number[] = []
    await bus.subscribe<number>({
      group: 'A',
      topics: ['t'],
      handler: async (b) => void groupA.push(...b.messages.map((m) => m.value)),
    })
    await bus.subscribe<number>({
      group: 'B',
      topics: ['t'],
      handler: async (b) => b.messages.forEach((m) => (groupB.push(m.value), member1.add(b.partition))),
    })
    await bus.subscribe<number>({
      group: 'B',
      topics: ['t'],
      handler: async (b) => b.messages.forEach((m) => (groupB.push(m.value), member2.add(b.partition))),
    })
    await bus.publish(
      't',
      Array.from({ length: 200 }, (_, n) => ({ key: `key-${n}`, value: n })),
    )
    expect(await bus.drain(5000)).toBe(true)
    expect(groupA.sort((x, y) => x - y)).toEqual([...Array(200).keys()])
    expect(groupB.sort((x, y) => x - y)).toEqual([...Array(200).keys()])
    expect(member1.size).toBeGreaterThan(0)
    expect(member2.size).toBeGreaterThan(0)
    expect([...member1].some((p) => member2.has(p))).toBe(false)
  })

  it('applies backpressure: a publish waits while the buffer is full and fails whole after its timeout', async () => {
    const bus = newBus(1, 16)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let handled = 0
    await bus.subscribe({
      group: 'slow',
      topics: ['t'],
      maxBatchSize: 100,
      handler: async (batch) => {
        await gate
        handled += batch.messages.length
      },
    })
    await bus.publish(
      't',
      Array.from({ length: 16 }, (_, n) => ({ key: 'k', value: n })),
    )
    const overflow = await bus
      .publish('t', [{ key: 'k', value: 99 }], { timeoutMs: 50 })
      .catch((e: unknown) => e)
    expect(overflow).toBeInstanceOf(ArgusError)
    expect((overflow as ArgusError).code).toBe('ARGUS_ERR_OVERLOADED')
    expect((overflow as ArgusError).retriable).toBe(true)

    const waiting = bus.publish('t', [{ key: 'k', value: 100 }], { timeoutMs: 5000 })
    await sleep(20)
    release()
    await waiting
    expect(await bus.drain(5000)).toBe(true)
    // The timed-out publish left nothing behind; the waiting one got through.
    expect(handled).toBe(17)
  })

  it('holds a batch back until it is full or maxWaitMs has passed', async () => {
    const bus = newBus(1)
    const sizes: number[] = []
    await bus.subscribe({
      group: 'g',
      topics: ['t'],
      maxBatchSize: 10,
      maxWaitMs: 200,
      handler: async (b) => void sizes.push(b.messages.length),
    })
    await bus.publish('t', [{ key: 'k', value: 1 }])
    await sleep(50)
    await bus.publish('t', [{ key: 'k', value: 2 }])
    await sleep(50)
    expect(sizes).toEqual([])
    await bus.publish(
      't',
      Array.from({ length: 12 }, (_, n) => ({ key: 'k', value: n })),
    )
    await until(() => sizes.length >= 1)
    expect(sizes[0]).toBe(10)
    await until(() => sizes.length >= 2)
    expect(sizes[1]).toBe(4)
  })

  it('delivers a full partition at once when maxBatchSize is more than a partition holds', async () => {
    const bus = newBus(1, 16)
    const sizes: number[] = []
    await bus.subscribe({
      group: 'g',
      topics: ['t'],
      maxBatchSize: 1_000,
      maxWaitMs: 60_000, // a batch that waited for the timer would fail the test
      handler: async (b) => void sizes.push(b.messages.length),
    })
    await bus.publish(
      't',
      Array.from({ length: 16 }, (_, n) => ({ key: 'k', value: n })),
    )
    await until(() => sizes.length >= 1, 2_000)
    expect(sizes).toEqual([16])
  })

  it('counts a message of several records as that many, for capacity and for batch sizes', async () => {
    const bus = newBus(1, 100)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const batches: number[][] = []
    await bus.subscribe<number>({
      group: 'g',
      topics: ['t'],
      maxBatchSize: 50,
      handler: async (b) => {
        await gate
        batches.push(b.messages.map((m) => m.value))
      },
    })
    // 4 x 30 records: 120 over a capacity of 100, so the fourth waits though there are 4 messages.
    for (let n = 0; n < 3; n++) await bus.publish('t', [{ key: 'k', value: n, records: 30 }])
    const full = await bus
      .publish('t', [{ key: 'k', value: 3, records: 30 }], { timeoutMs: 50 })
      .catch((e: unknown) => e)
    expect((full as ArgusError).code).toBe('ARGUS_ERR_OVERLOADED')
    // Messages of one record still fit beside them.
    await bus.publish('t', [{ key: 'k', value: 4 }])
    // A message over maxBatchSize goes alone; otherwise batches hold up to 50 records.
    const big = bus.publish('t', [{ key: 'k', value: 5, records: 80 }], { timeoutMs: 5000 })
    release()
    await big
    expect(await bus.drain(5000)).toBe(true)
    expect(batches.flat()).toEqual([0, 1, 2, 4, 5])
    const weights = [30, 30, 30, undefined, 1, 80]
    for (const batch of batches) {
      const records = batch.reduce((sum, value) => sum + (weights[value] as number), 0)
      if (batch.length > 1) expect(records).toBeLessThanOrEqual(50)
    }
    expect(batches).toContainEqual([2, 4])
    expect(batches).toContainEqual([5])
  })

  it('gives a topic its own capacity when told, and others the default', async () => {
    const bus = createInProcessBus({
      logger: quietLogger(),
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      partitions: 1,
      partitionCapacity: 10,
      topicCapacity: { points: 40 },
    })
    buses.push(bus)
    let release!: () => void
    // Nothing is acknowledged until the end: what is published stays.
    const gate = new Promise<void>((resolve) => (release = resolve))
    for (const topic of ['points', 'records'])
      await bus.subscribe({ group: `g-${topic}`, topics: [topic], handler: () => gate })
    const publish = (topic: string, records: number) =>
      bus.publish(topic, [{ key: 'k', value: records, records }], { timeoutMs: 30 }).then(
        () => 'ok',
        (e: ArgusError) => e.code,
      )
    expect(await publish('points', 25)).toBe('ok')
    expect(await publish('points', 15)).toBe('ok')
    expect(await publish('points', 1)).toBe('ARGUS_ERR_OVERLOADED')
    expect(await publish('records', 6)).toBe('ok')
    expect(await publish('records', 5)).toBe('ARGUS_ERR_OVERLOADED')
    release()
  })

  it('counts drops when a topic has no consumer group and its retention is full', async () => {
    const metrics = createMetricsRegistry({ defaultMetrics: false })
    const bus = createInProcessBus({ logger: quietLogger(), metrics, partitions: 1, partitionCapacity: 16 })
    buses.push(bus)
    await bus.publish(
      'orphan',
      Array.from({ length: 40 }, (_, n) => ({ key: 'k', value: n })),
    )
    const text = await metrics.metrics()
    expect(text).toMatch(/argus_bus_dropped_messages_total\{topic="orphan",reason="no_consumer_group"\} 24/)
    // A group that joins later still reads what retention kept, oldest first.
    const got: number[] = []
    await bus.subscribe<number>({
      group: 'late',
      topics: ['orphan'],
      handler: async (b) => void got.push(...b.messages.map((m) => m.value)),
    })
    expect(await bus.drain(5000)).toBe(true)
    expect(got).toEqual(Array.from({ length: 16 }, (_, n) => n + 24))
  })

  it('refuses publishes after stop', async () => {
    const bus = newBus()
    await bus.stop()
    await expect(bus.publish('t', [{ key: 'k', value: 1 }])).rejects.toMatchObject({
      code: 'ARGUS_ERR_STOPPED',
    })
  })

  it('holds deliveries while a member is paused and delivers them on resume', async () => {
    const bus = newBus(4)
    const values: number[] = []
    const subscription = await bus.subscribe<number>({
      group: 'g',
      topics: ['t'],
      handler: async (batch) => {
        values.push(...batch.messages.map((m) => m.value))
      },
    })
    subscription.pause()
    await bus.publish(
      't',
      Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, value: n })),
    )
    await sleep(50)
    expect(values).toEqual([])
    expect(await bus.drain(20)).toBe(false)
    subscription.resume()
    expect(subscription.paused).toBe(false)
    expect(await bus.drain(5000)).toBe(true)
    expect(values.sort((a, b) => a - b)).toEqual([...Array(20).keys()])
  })
})
