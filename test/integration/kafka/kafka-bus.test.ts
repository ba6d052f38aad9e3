import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ArgusError, DEAD_LETTER_HEADERS, TOPICS, createMetricsRegistry, sleep } from '../../../core/index.js'
import { createKafkaBus, type Bus, type MessageBatch, type Subscription } from '../../../bus/index.js'
import { stillReachable } from '../../helpers/collect-garbage.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

// The Bus contract on a real Apache Kafka broker (started by global-setup.ts from scripts/).
let bus: Bus
const fastRetry = { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 }

function newBus(): Bus {
  return createKafkaBus({
    brokers: [inject('kafkaBrokers')],
    clientId: `test-${randomUUID().slice(0, 6)}`,
    logger: quietLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    topics: { partitions: 4, replicationFactor: 1, retentionMs: 3_600_000, compression: 'snappy' },
  })
}

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(50)
  }
}

const topicName = (): string => `test.${randomUUID().slice(0, 8)}`

beforeAll(async () => {
  bus = newBus()
  await bus.start()
})

afterAll(async () => {
  await bus.stop()
})

describe('kafka bus', () => {
  it('creates every Argus topic at start', async () => {
    const { Kafka } = await import('kafkajs')
    const admin = new Kafka({ brokers: [inject('kafkaBrokers')], logLevel: 0 }).admin()
    await admin.connect()
    const topics = await admin.listTopics()
    await admin.disconnect()
    for (const topic of Object.values(TOPICS)) expect(topics).toContain(topic)
  })

  it('keeps per-key order and commits only what handlers finished', async () => {
    const topic = topicName()
    const seen = new Map<string, number[]>()
    const subscription = await bus.subscribe<{ n: number }>({
      group: `order-${topic}`,
      topics: [topic],
      maxBatchSize: 7,
      handler: async (batch) => {
        for (const m of batch.messages) seen.set(m.key, [...(seen.get(m.key) ?? []), m.value.n])
      },
    })
    for (let round = 0; round < 20; round++)
      await bus.publish(
        topic,
        ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, value: { n: round } })),
      )
    await until(() => [...seen.values()].reduce((n, v) => n + v.length, 0) >= 100)
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect(seen.get(key)).toEqual([...Array(20).keys()])
    expect(await bus.drain(30_000)).toBe(true)
    await subscription.stop()
  })

  it('redelivers a failed batch with the same offsets and dedup token, and a new member resumes after the last commit', async () => {
    const topic = topicName()
    const group = `redeliver-${topic}`
    const deliveries: MessageBatch[] = []
    let failuresLeft = 2
    const first = await bus.subscribe<number>({
      group,
      topics: [topic],
      retry: fastRetry,
      handler: async (batch) => {
        deliveries.push(batch)
        if (failuresLeft-- > 0)
          throw new ArgusError('ARGUS_ERR_STORAGE_UNAVAILABLE', 'down', { retriable: true })
      },
    })
    await bus.publish(
      topic,
      [1, 2, 3].map((n) => ({ key: 'k', value: n })),
    )
    await until(() => deliveries.length >= 3)
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2, 3])
    expect(new Set(deliveries.map((d) => d.dedupToken)).size).toBe(1)
    // A redelivery decodes the messages again: the same records.
    for (const delivery of deliveries) expect(delivery.messages.map((m) => m.value)).toEqual([1, 2, 3])
    await first.stop()

    // Published while nobody listens; a new member of the group gets only these.
    await bus.publish(
      topic,
      [4, 5].map((n) => ({ key: 'k', value: n })),
    )
    const later: number[] = []
    const second = await bus.subscribe<number>({
      group,
      topics: [topic],
      handler: async (batch) => void later.push(...batch.messages.map((m) => m.value)),
    })
    await until(() => later.length >= 2)
    await sleep(500)
    expect(later).toEqual([4, 5])
    await second.stop()
  })

  it('keeps no reference to the records it handed over while the handler runs', async () => {
    const topic = topicName()
    const refs: Array<WeakRef<object>> = []
    let release: () => void = () => undefined
    const handled = new Promise<void>((resolve) => (release = resolve))
    const subscription = await bus.subscribe<{ n: number }>({
      group: `handover-${topic}`,
      topics: [topic],
      // Not async: the handler keeps nothing of the batch while it waits, as the storage writer.
      handler: (batch) => {
        for (const m of batch.messages) refs.push(new WeakRef(m), new WeakRef(m.value))
        return handled
      },
    })
    await bus.publish(
      topic,
      Array.from({ length: 50 }, (_, n) => ({ key: 'k', value: { n } })),
    )
    try {
      await until(() => refs.length === 100)
      // The batch is not committed yet: had the bus kept its records, they would still be reachable.
      expect(await stillReachable(refs)).toBe(0)
    } finally {
      release()
    }
    expect(await bus.drain(30_000)).toBe(true)
    await subscription.stop()
  })

  it('dead-letters only the poison record after its retries, with the error in headers, and the stream continues', async () => {
    const topic = topicName()
    const handled: number[] = []
    const dead: Array<{ value: unknown; headers: Record<string, string> | undefined }> = []
    const dlq = await bus.subscribe({
      group: `dlq-${topic}`,
      topics: [TOPICS.deadLetter],
      fromBeginning: false,
      handler: async (batch) => {
        for (const m of batch.messages)
          if (m.headers?.[DEAD_LETTER_HEADERS.originalTopic] === topic)
            dead.push({ value: m.value, headers: m.headers })
      },
    })
    await sleep(2000) // let the dead-letter reader join before anything is dead-lettered
    const consumer = await bus.subscribe<number>({
      group: `poison-${topic}`,
      topics: [topic],
      retry: { ...fastRetry, maxAttempts: 3 },
      handler: async (batch) => {
        // Records of one key travel packed, so 1, 2 and 3 arrive in one batch that keeps failing.
        const values = batch.messages.map((m) => m.value)
        if (values.includes(2)) throw new Error('poison')
        handled.push(...values)
      },
    })
    await bus.publish(
      topic,
      [1, 2, 3].map((n) => ({ key: 'k', value: n })),
    )
    await until(() => handled.length >= 2 && dead.length >= 1)
    await sleep(500)
    expect(handled).toEqual([1, 3])
    expect(dead.map((d) => d.value)).toEqual([2])
    expect(dead[0]?.headers?.[DEAD_LETTER_HEADERS.errorMessage]).toBe('poison')
    expect(dead[0]?.headers?.[DEAD_LETTER_HEADERS.attempts]).toBe('3')
    await consumer.stop()
    await dlq.stop()
  })

  it('splits partitions between two members of a group and hands them over when one stops', async () => {
    const topic = topicName()
    const group = `split-${topic}`
    const byMember: Array<Set<number>> = [new Set(), new Set()]
    const values: number[] = []
    const members: Subscription[] = []
    const otherBus = newBus()
    await otherBus.start()
    for (const [i, b] of [bus, otherBus].entries()) {
      members.push(
        await b.subscribe<number>({
          group,
          topics: [topic],
          handler: async (batch) => {
            byMember[i]?.add(batch.partition)
            values.push(...batch.messages.map((m) => m.value))
          },
        }),
      )
    }
    await sleep(3000) // rebalance settles with both members
    await bus.publish(
      topic,
      Array.from({ length: 200 }, (_, n) => ({ key: `key-${n}`, value: n })),
    )
    await until(() => values.length >= 200)
    expect([...(byMember[0] ?? [])].some((p) => byMember[1]?.has(p))).toBe(false)
    expect((byMember[0]?.size ?? 0) + (byMember[1]?.size ?? 0)).toBe(4)

    await members[1]?.stop()
    await otherBus.stop()
    byMember[0]?.clear()
    await bus.publish(
      topic,
      Array.from({ length: 200 }, (_, n) => ({ key: `key-${n}`, value: 1000 + n })),
    )
    await until(() => values.length >= 400)
    expect(byMember[0]?.size).toBe(4)
    expect(values.filter((v) => v >= 1000).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, n) => 1000 + n),
    )
    await members[0]?.stop()
  })

  it('fills a batch by bytes when asked, waiting no longer than maxWaitMs', async () => {
    const topic = topicName()
    const batches: Array<{ values: number[]; at: number }> = []
    const subscription = await bus.subscribe<number>({
      group: `fill-${topic}`,
      topics: [topic],
      maxWaitMs: 2_000,
      minBatchBytes: 10 * 1024 * 1024, // more than the test sends: only the wait ends a fetch
      handler: async (batch) => {
        batches.push({ values: batch.messages.map((m) => m.value), at: Date.now() })
      },
    })
    // Once the member has joined and fetched, sends 150 ms apart would each be a batch of their own
    // without minBatchBytes; with it a fetch gathers them until its wait ends.
    await bus.publish(topic, [{ key: 'a', value: 0 }])
    await until(() => batches.length === 1)
    const firstSentAt = Date.now()
    for (let n = 1; n <= 5; n++) {
      await bus.publish(topic, [{ key: 'a', value: n }])
      await sleep(150)
    }
    await until(() => batches.flatMap((b) => b.values).length === 6)
    expect(batches.flatMap((b) => b.values)).toEqual([0, 1, 2, 3, 4, 5])
    // A fetch already waiting when the first send lands may end before the last: two at most.
    expect(batches.length - 1).toBeLessThanOrEqual(2)
    // Not held past the wait: the last send is delivered within maxWaitMs (and a fetch's round trip).
    expect(batches[batches.length - 1]!.at - firstSentAt).toBeLessThan(4 * 150 + 2_000 + 1_000)
    await subscription.stop()
  })

  it('holds deliveries while paused, without leaving the group, and delivers them on resume', async () => {
    const topic = topicName()
    const values: number[] = []
    const subscription = await bus.subscribe<number>({
      group: `pause-${topic}`,
      topics: [topic],
      handler: async (batch) => {
        values.push(...batch.messages.map((m) => m.value))
      },
    })
    await bus.publish(topic, [{ key: 'a', value: 1 }])
    await until(() => values.length === 1)
    subscription.pause()
    expect(subscription.paused).toBe(true)
    await bus.publish(
      topic,
      Array.from({ length: 50 }, (_, n) => ({ key: `k${n}`, value: 100 + n })),
    )
    await sleep(2_000)
    expect(values).toEqual([1])
    subscription.resume()
    await until(() => values.length === 51)
    expect(values.slice(1).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => 100 + n))
    await subscription.stop()
  })
})
