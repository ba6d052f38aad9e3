import kafkajs, {
  Kafka,
  CompressionTypes,
  Partitioners,
  logLevel,
  type Consumer,
  type KafkaMessage,
  type Producer,
  type Admin,
} from 'kafkajs'
import {
  ArgusError,
  DEFAULT_RETRY,
  TOPICS,
  backoffDelay,
  asError,
  errorMessage,
  gauge,
  isArgusError,
  isRetriable,
  retry,
  sleep,
  type Logger,
  type Registry,
  type RetryOptions,
} from '../core/index.js'
import {
  UnconfirmedPublish,
  type Bus,
  type DeliveredMessage,
  type OutgoingMessage,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.js'
import { createBusMetrics } from './bus-metrics.js'
import { deadLetterHeaders } from './dead-letter.js'
import { createKafkaSendQueue, type KafkaSendQueue } from './kafka-send-queue.js'
import { packMessages, rawValueOf, recordsIn, unpackMessage } from './kafka-packing.js'
import { snappyCodec } from './kafka-snappy.js'

// Process-wide in kafkajs: consumers read snappy batches whichever producer wrote them.
// (A CommonJS export ESM cannot name: through the default export.)
kafkajs.CompressionCodecs[CompressionTypes.Snappy] = snappyCodec

export type KafkaCompression = 'none' | 'gzip' | 'snappy'

const COMPRESSION_TYPES: Record<KafkaCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
}

export interface KafkaBusOptions {
  brokers: readonly string[]
  clientId: string
  logger: Logger
  metrics: Registry
  /** Topic provisioning: applied to every Argus topic that does not exist yet. */
  topics: {
    partitions: number
    replicationFactor: number
    retentionMs: number
    compression: KafkaCompression
  }
  defaultPublishTimeoutMs?: number
}

/** Bytes one coalesced produce request carries at most; topics accept record batches up to twice that. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** Messages queued for Kafka beyond this are refused (retriable): the producer cannot keep up. */
const MAX_WAITING_RECORDS = 200_000

/** How often a consumer in a long retry loop tells the group it is alive. */
const HEARTBEAT_EVERY_MS = 3_000

interface Chunk<T> {
  /** The Kafka messages taken. */
  raw: KafkaMessage[]
  /** Their records until handed over (see eachBatch). */
  decoded: DeliveredMessage<T>[] | undefined
  undecodable: Array<{ key: string; value: unknown; offset: number; partition: number }>
}

/**
 * Whole Kafka messages from `from` (a pack holds many records) until they hold `maxRecords`
 * records, decoded. A function of its own so that no frame that later waits refers to a record.
 */
function takeChunk<T>(
  topic: string,
  partition: number,
  messages: readonly KafkaMessage[],
  from: number,
  maxRecords: number,
): Chunk<T> {
  const raw: KafkaMessage[] = []
  const decoded: DeliveredMessage<T>[] = []
  const undecodable: Chunk<T>['undecodable'] = []
  let records = 0
  for (let at = from; at < messages.length && (at === from || records < maxRecords); at++) {
    const message = messages[at] as KafkaMessage
    raw.push(message)
    try {
      const unpacked = unpackMessage<T>(topic, partition, message)
      for (const record of unpacked) decoded.push(record)
      records += recordsIn(message) ?? unpacked.length
    } catch {
      undecodable.push({
        key: message.key?.toString() ?? '',
        value: rawValueOf(message),
        offset: Number(message.offset),
        partition,
      })
    }
  }
  return { raw, decoded, undecodable }
}

/** The records of messages decoded once before (those that did not decode then are left out again). */
function decodeAgain<T>(
  topic: string,
  partition: number,
  raw: readonly KafkaMessage[],
): DeliveredMessage<T>[] {
  const records: DeliveredMessage<T>[] = []
  for (const message of raw) {
    try {
      for (const record of unpackMessage<T>(topic, partition, message)) records.push(record)
    } catch {
      // Dead-lettered when first decoded.
    }
  }
  return records
}

/**
 * The Bus on Apache Kafka (kafkajs). Keys pick partitions with Kafka's own murmur2 partitioner,
 * so one workload's messages keep their order; the producer is idempotent; consumer offsets are
 * committed only after the handler resolves, one chunk at a time, so a crash redelivers at most
 * the chunk in flight. Values travel as MessagePack packs (see kafka-packing).
 */
export function createKafkaBus(options: KafkaBusOptions): Bus {
  const logger = options.logger.child({ component: 'kafka-bus' })
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      if (entry.level <= logLevel.ERROR)
        logger.warn({ kafkajs: entry.log.message, broker: entry.log.broker }, 'kafka client error')
    },
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  })
  const compression = COMPRESSION_TYPES[options.topics.compression]
  let admin: Admin | undefined
  let producer: Producer | undefined
  let sendQueue: KafkaSendQueue | undefined
  const consumers = new Set<Consumer>()
  const groups = new Map<string, Set<string>>()
  const provisioned = new Set<string>()
  let state: 'new' | 'running' | 'stopped' = 'new'
  let offsetSource = 'kafka'

  const { published, consumed, failures, deadLettered, handlerDuration } = createBusMetrics(options.metrics)
  const lag = gauge(
    options.metrics,
    'argus_bus_consumer_lag_messages',
    'Messages published but not yet acknowledged, per group and partition',
    ['topic', 'group', 'partition'],
  )

  function running(): { admin: Admin; sendQueue: KafkaSendQueue } {
    if (state !== 'running' || !admin || !sendQueue)
      throw new ArgusError('ARGUS_ERR_STOPPED', 'kafka bus is not running', { retriable: true })
    return { admin, sendQueue }
  }

  async function ensureTopics(names: readonly string[]): Promise<void> {
    const missing = names.filter((name) => !provisioned.has(name))
    if (missing.length === 0) return
    const activeAdmin = running().admin
    const created = await activeAdmin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: options.topics.partitions,
        replicationFactor: options.topics.replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(options.topics.retentionMs) },
          { name: 'compression.type', value: 'producer' },
          { name: 'max.message.bytes', value: String(2 * MAX_REQUEST_BYTES) },
        ],
      })),
    })
    if (created) logger.info({ topics: missing }, 'kafka topics created')
    // Metadata lags creation for a moment ("does not host this topic-partition"): wait for every leader.
    await retry(
      async () => {
        const metadata = await activeAdmin.fetchTopicMetadata({ topics: missing })
        const leaderless = metadata.topics.filter(
          (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
        )
        if (leaderless.length > 0)
          throw new ArgusError(
            'ARGUS_ERR_BUS',
            `no leader yet for ${leaderless.map((t) => t.name).join(', ')}`,
            { retriable: true },
          )
      },
      { maxAttempts: 30, initialDelayMs: 100, maxDelayMs: 1_000 },
    )
    for (const name of missing) provisioned.add(name)
  }

  // Not async: the records are packed before this returns, and only the packed bytes wait for the
  // acknowledgement (about 70 ms under load). Records held that long outlived young-generation
  // collections and were copied and promoted.
  function publish<T>(
    topic: string,
    messages: ReadonlyArray<OutgoingMessage<T>>,
    publishOptions: PublishOptions = {},
  ): Promise<void> {
    try {
      running()
    } catch (error) {
      return Promise.reject(asError(error))
    }
    if (messages.length === 0) return Promise.resolve()
    // A topic not provisioned yet (its first publish) holds its records until it is.
    if (!provisioned.has(topic))
      return ensureTopics([topic]).then(() => sendPacked(topic, messages, publishOptions))
    return sendPacked(topic, messages, publishOptions)
  }

  function sendPacked<T>(
    topic: string,
    messages: ReadonlyArray<OutgoingMessage<T>>,
    publishOptions: PublishOptions,
  ): Promise<void> {
    const queue = running().sendQueue
    if (queue.waitingRecords + messages.length > MAX_WAITING_RECORDS)
      return Promise.reject(
        new ArgusError(
          'ARGUS_ERR_OVERLOADED',
          `${queue.waitingRecords} records already wait for Kafka; retry later`,
          { retriable: true },
        ),
      )
    let packed: ReturnType<typeof packMessages>
    try {
      packed = packMessages(messages)
    } catch (error) {
      return Promise.reject(asError(error))
    }
    const records = messages.length
    return awaitAcknowledgement(
      topic,
      queue.enqueue(topic, packed.messages, packed.bytes, records),
      records,
      publishOptions.timeoutMs ?? options.defaultPublishTimeoutMs ?? 30_000,
    )
  }

  async function awaitAcknowledgement(
    topic: string,
    send: Promise<void>,
    records: number,
    timeoutMs: number,
  ): Promise<void> {
    // kafkajs keeps retrying after we stop waiting, so a late send may still land: say so.
    const landed = send.then(
      () => true as const,
      () => undefined,
    )
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new UnconfirmedPublish(`kafka did not acknowledge ${topic} within ${timeoutMs} ms`, landed)),
        timeoutMs,
      )
    })
    try {
      await Promise.race([send, timeout])
    } catch (error) {
      if (error instanceof UnconfirmedPublish) {
        void landed.then((ok) => ok && published.inc({ topic }, records))
        throw error
      }
      if (isArgusError(error)) throw error
      throw new ArgusError('ARGUS_ERR_BUS', `publishing to ${topic} failed: ${errorMessage(error)}`, {
        cause: error,
        retriable: true,
      })
    } finally {
      clearTimeout(timer)
    }
    published.inc({ topic }, records)
  }

  async function deadLetter(
    group: string,
    topic: string,
    messages: ReadonlyArray<{
      key: string
      value: unknown
      offset: number
      partition: number
      headers?: Record<string, string>
    }>,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const code = isArgusError(error) ? error.code : 'ARGUS_ERR_HANDLER'
    logger.error(
      { topic, group, count: messages.length, attempts, code, err: error },
      'handler kept failing; messages sent to the dead-letter topic',
    )
    deadLettered.inc({ topic, group }, messages.length)
    if (topic === TOPICS.deadLetter) return
    await publish(
      TOPICS.deadLetter,
      messages.map((m) => ({
        key: m.key,
        value: m.value,
        headers: deadLetterHeaders({ ...m, error, topic, group, attempts }),
      })),
    )
  }

  async function subscribe<T>(subscribeOptions: SubscribeOptions<T>): Promise<Subscription> {
    running()
    await ensureTopics(subscribeOptions.topics)
    const group = subscribeOptions.group
    const maxBatch = subscribeOptions.maxBatchSize ?? 1000
    const retryOptions: RetryOptions = { ...DEFAULT_RETRY, maxAttempts: 10, ...subscribeOptions.retry }
    const consumer = kafka.consumer({
      groupId: group,
      maxWaitTimeInMs: Math.max(10, subscribeOptions.maxWaitMs ?? 100),
      // Waiting to fill only means something with a wait to bound it.
      minBytes: subscribeOptions.maxWaitMs ? (subscribeOptions.minBatchBytes ?? 1) : 1,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      sessionTimeout: 30_000,
      heartbeatInterval: HEARTBEAT_EVERY_MS,
      retry: { retries: 10 },
    })
    consumers.add(consumer)
    groups.set(group, new Set([...(groups.get(group) ?? []), ...subscribeOptions.topics]))
    let generation = 0
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      generation++
      const assigned = Object.entries(event.payload.memberAssignment).map(
        ([topic, partitions]) => `${topic}:${partitions.join(',')}`,
      )
      logger.info(
        { group, generation, leader: event.payload.isLeader, assigned },
        'kafka consumer group assignment',
      )
    })
    consumer.on(consumer.events.REBALANCING, () => logger.info({ group }, 'kafka consumer group rebalancing'))
    consumer.on(consumer.events.CRASH, (event) =>
      logger.error(
        { group, err: event.payload.error, restart: event.payload.restart },
        'kafka consumer crashed',
      ),
    )
    await consumer.connect()
    await consumer.subscribe({
      topics: [...subscribeOptions.topics],
      fromBeginning: subscribeOptions.fromBeginning !== false,
    })
    let stopping = false
    let paused = false

    /**
     * A batch that kept failing may hold one poison record among good ones (a pack holds up to a
     * thousand records of one workload): halves are handled on their own, once each, until the
     * records that fail alone are found; only those go to the dead-letter topic. The halves carry
     * no durable offsets (their records share offsets with the rest of their pack) and a dedup
     * token of their own, so a sink stores each exactly once even if isolation runs again.
     */
    async function isolatePoison(
      at: { topic: string; partition: number; dedupToken: string; generation: number },
      records: ReadonlyArray<DeliveredMessage<T>>,
      error: unknown,
      attempts: number,
      from = 0,
    ): Promise<void> {
      if (records.length === 1 || stopping) {
        await deadLetter(group, at.topic, records, error, attempts)
        return
      }
      const half = Math.ceil(records.length / 2)
      for (const [offset, part] of [
        [0, records.slice(0, half)],
        [half, records.slice(half)],
      ] as const) {
        const start = from + offset
        try {
          await subscribeOptions.handler({
            topic: at.topic,
            partition: at.partition,
            messages: part,
            firstOffset: part[0]?.offset ?? 0,
            lastOffset: part[part.length - 1]?.offset ?? 0,
            attempt: attempts + 1,
            dedupToken: `${at.dedupToken}#${start}-${start + part.length - 1}`,
            assignmentGeneration: at.generation,
          })
        } catch (partError) {
          failures.inc({ topic: at.topic, group })
          await isolatePoison(at, part, partError, attempts, start)
        }
      }
    }
    const everyTopic = subscribeOptions.topics.map((topic) => ({ topic }))

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.topics.partitions,
      eachBatch: async (payload) => {
        const { batch } = payload
        const { topic, partition } = batch
        let next = 0
        while (next < batch.messages.length) {
          // Paused mid-batch: hold the rest (uncommitted) while staying in the group.
          while (paused && payload.isRunning() && !payload.isStale() && !stopping) {
            await sleep(200)
            await payload.heartbeat()
          }
          if (!payload.isRunning() || payload.isStale() || stopping) return
          const chunk = takeChunk<T>(topic, partition, batch.messages, next, maxBatch)
          next += chunk.raw.length
          const { raw, undecodable } = chunk
          const count = chunk.decoded?.length ?? 0
          const first = Number(raw[0]?.offset)
          const last = Number(raw[raw.length - 1]?.offset)
          // The records are handed to the handler, not kept here while it runs: one done with them
          // (the storage writer encodes them at once) lets them die young instead of being copied
          // and promoted while the batch waits for storage. A retry decodes the messages again.
          const handOver = (): DeliveredMessage<T>[] => {
            const records = chunk.decoded ?? decodeAgain<T>(topic, partition, raw)
            chunk.decoded = undefined
            return records
          }
          if (undecodable.length > 0) {
            await deadLetter(
              group,
              topic,
              undecodable,
              new ArgusError('ARGUS_ERR_BAD_INPUT', 'message value does not decode'),
              1,
            )
          }
          for (let attempt = 1; count > 0; attempt++) {
            const endTimer = handlerDuration.startTimer({ topic, group })
            try {
              await subscribeOptions.handler({
                topic,
                partition,
                messages: handOver(),
                firstOffset: first,
                lastOffset: last,
                attempt,
                dedupToken: `${topic}:${partition}:${first}-${last}`,
                durableOffsetSource: offsetSource,
                assignmentGeneration: generation,
              })
              endTimer()
              break
            } catch (error) {
              endTimer()
              failures.inc({ topic, group })
              const retriable = (retryOptions.shouldRetry ?? isRetriable)(error)
              if (!retriable || attempt >= retryOptions.maxAttempts) {
                await isolatePoison(
                  { topic, partition, dedupToken: `${topic}:${partition}:${first}-${last}`, generation },
                  handOver(),
                  error,
                  attempt,
                )
                break
              }
              const delayMs = backoffDelay(attempt, retryOptions)
              logger.warn(
                { topic, partition, group, attempt, delayMs, err: error },
                'handler failed; will redeliver',
              )
              // Stay in the group while waiting: heartbeat in slices shorter than the session timeout.
              for (let waited = 0; waited < delayMs; waited += HEARTBEAT_EVERY_MS) {
                if (!payload.isRunning() || payload.isStale() || stopping) return
                await sleep(Math.min(HEARTBEAT_EVERY_MS, delayMs - waited))
                await payload.heartbeat()
              }
            }
          }
          payload.resolveOffset(String(last))
          await consumer.commitOffsets([{ topic, partition, offset: String(last + 1) }])
          consumed.inc({ topic, group }, count + undecodable.length)
          lag.set(
            { topic, group, partition: String(partition) },
            Math.max(0, Number(batch.highWatermark) - (last + 1)),
          )
          await payload.heartbeat()
        }
      },
    })
    logger.info({ group, topics: subscribeOptions.topics }, 'kafka consumer joined its group')

    let stopped = false
    return {
      group,
      get paused() {
        return paused
      },
      pause() {
        paused = true
        consumer.pause(everyTopic)
      },
      resume() {
        paused = false
        consumer.resume(everyTopic)
      },
      async stop() {
        if (stopped) return
        stopped = true
        stopping = true
        consumers.delete(consumer)
        // Disconnecting leaves the group; its partitions move to the remaining members.
        await consumer.disconnect()
      },
    }
  }

  /** Every group this process consumes with has committed up to each partition's end. */
  async function caughtUp(): Promise<boolean> {
    const activeAdmin = running().admin
    for (const [groupId, topics] of groups) {
      for (const topic of topics) {
        const ends = await activeAdmin.fetchTopicOffsets(topic)
        const [committed] = await activeAdmin.fetchOffsets({ groupId, topics: [topic] })
        const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
        for (const end of ends) {
          const high = Number(end.high)
          if (high > 0 && (byPartition.get(end.partition) ?? -1) < high) return false
        }
      }
    }
    return true
  }

  return {
    name: 'kafka-bus',
    publish,
    subscribe,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        if (await caughtUp().catch(() => false)) return true
        await sleep(200)
      }
      return false
    },
    async start() {
      if (state !== 'new') return
      admin = kafka.admin()
      // Java's murmur2 partitioner: the same key lands on the same partition as from any Kafka client.
      producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      })
      await admin.connect()
      await producer.connect()
      const activeProducer = producer
      sendQueue = createKafkaSendQueue(
        (topicMessages) =>
          activeProducer.sendBatch({ topicMessages, compression, acks: -1, timeout: 30_000 }),
        MAX_REQUEST_BYTES,
      )
      state = 'running'
      offsetSource = `kafka:${(await admin.describeCluster()).clusterId}`
      await ensureTopics(Object.values(TOPICS))
      logger.info({ brokers: options.brokers }, 'kafka bus connected')
    },
    async stop() {
      if (state !== 'running') return
      for (const consumer of [...consumers]) await consumer.disconnect()
      consumers.clear()
      state = 'stopped'
      sendQueue = undefined
      await producer?.disconnect()
      await admin?.disconnect()
    },
  }
}
