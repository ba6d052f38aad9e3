import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import {
  ArgusError,
  DEFAULT_RETRY,
  TOPICS,
  backoffDelay,
  counter,
  gauge,
  histogram,
  isArgusError,
  isRetriable,
  sleep,
  type Logger,
  type Registry,
  type RetryOptions,
} from '../core/index.js'
import {
  type Bus,
  type DeliveredMessage,
  type MessageBatch,
  type OutgoingMessage,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from './bus.js'
import { partitionFor } from './partitioner.js'
import { createBusMetrics } from './bus-metrics.js'
import { deadLetterHeaders } from './dead-letter.js'

const recordsOf = (message: OutgoingMessage<unknown>): number => message.records ?? 1

export interface InProcessBusOptions {
  logger: Logger
  metrics: Registry
  partitions: number
  /** Unacknowledged records a partition holds before publishers wait (see OutgoingMessage.records). */
  partitionCapacity: number
  /** The capacity of a partition of these topics, when not `partitionCapacity`. */
  topicCapacity?: Readonly<Record<string, number>>
  defaultPublishTimeoutMs?: number
}

interface PartitionLog {
  topic: string
  index: number
  /** Unacknowledged records it holds before publishers wait. */
  capacity: number
  /** entries[i] has offset `baseOffset + i`. */
  entries: DeliveredMessage[]
  /** recordsThrough[i]: records published up to and including entries[i], from the log's start. */
  recordsThrough: number[]
  baseOffset: number
  /** Records published before `baseOffset`. */
  baseRecords: number
  nextOffset: number
  wakeConsumers: Set<() => void>
}

interface Member {
  id: string
  options: SubscribeOptions<unknown>
  paused: boolean
}

interface GroupState {
  name: string
  topics: Set<string>
  members: Member[]
  /** Next offset to deliver, per partition log. */
  cursors: Map<PartitionLog, number>
  inFlight: Set<PartitionLog>
  loops: Map<PartitionLog, Promise<void>>
  abort: AbortController
}

/**
 * The embedded bus: Kafka's semantics (partitions, consumer groups, per-key order, commit after
 * success, redelivery, dead-letter topic) in one process, with bounded memory. Messages are
 * passed by reference: handlers must not mutate them.
 */
export function createInProcessBus(options: InProcessBusOptions): Bus {
  const { logger, metrics } = options
  const instanceId = randomUUID().slice(0, 8)
  const topics = new Map<string, PartitionLog[]>()
  const groups = new Map<string, GroupState>()
  const spaceWaiters = new Set<() => void>()
  let state: 'running' | 'stopping' | 'stopped' = 'running'
  const isStopped = (): boolean => state === 'stopped'

  const { published, consumed, failures, deadLettered, handlerDuration } = createBusMetrics(metrics)
  const dropped = counter(
    metrics,
    'argus_bus_dropped_messages_total',
    'Messages dropped by retention before any group read them',
    ['topic', 'reason'],
  )
  const publishWait = histogram(
    metrics,
    'argus_bus_publish_wait_seconds',
    'Time publishers waited for buffer room',
    ['topic'],
  )
  gauge(
    metrics,
    'argus_bus_consumer_lag_messages',
    'Messages published but not yet acknowledged, per group and partition',
    ['topic', 'group', 'partition'],
    function () {
      this.reset()
      for (const group of groups.values()) {
        for (const [log, cursor] of group.cursors)
          this.set(
            { topic: log.topic, group: group.name, partition: String(log.index) },
            log.nextOffset - cursor,
          )
      }
    },
  )

  function partitionsOf(topic: string): PartitionLog[] {
    let logs = topics.get(topic)
    if (!logs) {
      const capacity = options.topicCapacity?.[topic] ?? options.partitionCapacity
      logs = Array.from({ length: options.partitions }, (_, index) => ({
        topic,
        index,
        capacity,
        entries: [],
        recordsThrough: [],
        baseOffset: 0,
        baseRecords: 0,
        nextOffset: 0,
        wakeConsumers: new Set<() => void>(),
      }))
      topics.set(topic, logs)
    }
    return logs
  }

  /** The oldest offset some active group still needs, or undefined when no group reads the topic. */
  function lowWatermark(log: PartitionLog): number | undefined {
    let low: number | undefined
    for (const group of groups.values()) {
      const cursor = group.cursors.get(log)
      if (cursor !== undefined && (low === undefined || cursor < low)) low = cursor
    }
    return low
  }

  /** Records published before `offset` (at or above the log's base offset). */
  function recordsBefore(log: PartitionLog, offset: number): number {
    return offset === log.baseOffset
      ? log.baseRecords
      : (log.recordsThrough[offset - log.baseOffset - 1] as number)
  }

  /** Records from `offset` to the end of the log. */
  function recordsFrom(log: PartitionLog, offset: number): number {
    return recordsBefore(log, log.nextOffset) - recordsBefore(log, offset)
  }

  function unacknowledged(log: PartitionLog): number {
    const low = lowWatermark(log)
    return low === undefined ? 0 : recordsFrom(log, low)
  }

  /** Frees memory no active group needs; with no group, keeps the newest `capacity` records (counted drops). */
  function trim(log: PartitionLog): void {
    const low = lowWatermark(log)
    let removable: number
    if (low === undefined) {
      // The oldest messages go until the rest hold no more records than the capacity.
      removable = 0
      while (removable < log.entries.length && recordsFrom(log, log.baseOffset + removable) > log.capacity)
        removable++
      if (removable > 0) dropped.inc({ topic: log.topic, reason: 'no_consumer_group' }, removable)
    } else {
      removable = low - log.baseOffset
      // Splicing is O(n); do it in large steps so the cost per message stays small.
      if (removable < Math.max(1024, log.entries.length >> 2)) removable = 0
    }
    if (removable > 0) {
      log.baseRecords = log.recordsThrough[removable - 1] as number
      log.entries.splice(0, removable)
      log.recordsThrough.splice(0, removable)
      log.baseOffset += removable
    }
  }

  function notifySpace(): void {
    for (const wake of [...spaceWaiters]) wake()
  }

  function waitForSpace(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        spaceWaiters.delete(wake)
        resolve(true)
      }
      const timer = setTimeout(() => {
        spaceWaiters.delete(wake)
        resolve(false)
      }, timeoutMs)
      spaceWaiters.add(wake)
    })
  }

  function waitForData(log: PartitionLog, timeoutMs: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve()
      const done = (): void => {
        if (timer) clearTimeout(timer)
        log.wakeConsumers.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs)
      log.wakeConsumers.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  async function publish<T>(
    topic: string,
    messages: ReadonlyArray<OutgoingMessage<T>>,
    publishOptions: PublishOptions = {},
  ): Promise<void> {
    if (state === 'stopped') throw new ArgusError('ARGUS_ERR_STOPPED', 'bus is stopped')
    if (messages.length === 0) return
    const logs = partitionsOf(topic)
    const perPartition = new Map<PartitionLog, number>()
    // A publish carries many records of few keys (one pod's lines): hash each key once.
    const byKey = new Map<string, PartitionLog>()
    const targets = new Array<PartitionLog>(messages.length)
    for (let i = 0; i < messages.length; i++) {
      const key = (messages[i] as OutgoingMessage<T>).key
      const known = byKey.get(key)
      const log: PartitionLog = known ?? (logs[partitionFor(key, logs.length)] as PartitionLog)
      if (known === undefined) byKey.set(key, log)
      targets[i] = log
      perPartition.set(log, (perPartition.get(log) ?? 0) + recordsOf(messages[i] as OutgoingMessage<T>))
    }
    // All-or-nothing: wait until every target partition has room, so a timed-out publish left nothing behind
    // (a client that retries after our 503 must not create duplicates). An empty partition takes any batch.
    const fits = (): boolean =>
      [...perPartition].every(([log, n]) => {
        const used = unacknowledged(log)
        return used === 0 || used + n <= log.capacity
      })
    if (!fits()) {
      const timeoutMs = publishOptions.timeoutMs ?? options.defaultPublishTimeoutMs ?? 30_000
      const started = Date.now()
      const endTimer = publishWait.startTimer({ topic })
      while (!fits()) {
        const remaining = started + timeoutMs - Date.now()
        if (remaining <= 0 || !(await waitForSpace(remaining))) {
          endTimer()
          throw new ArgusError('ARGUS_ERR_OVERLOADED', `bus topic ${topic} is full; retry later`, {
            retriable: true,
            details: { topic, waitedMs: Date.now() - started },
          })
        }
        if (isStopped()) throw new ArgusError('ARGUS_ERR_STOPPED', 'bus is stopped')
      }
      endTimer()
    }
    const now = Date.now()
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as OutgoingMessage<T>
      const log = targets[i] as PartitionLog
      // One object shape for every entry (a spread would copy a shape per publisher).
      const entry: DeliveredMessage = {
        key: message.key,
        value: message.value,
        topic,
        partition: log.index,
        offset: log.nextOffset++,
        publishedAt: now,
      }
      if (message.headers) entry.headers = message.headers
      log.recordsThrough.push(recordsBefore(log, entry.offset) + recordsOf(message))
      log.entries.push(entry)
    }
    for (const log of perPartition.keys()) {
      if (lowWatermark(log) === undefined) trim(log)
      for (const wake of [...log.wakeConsumers]) wake()
    }
    published.inc({ topic }, messages.length)
  }

  async function deadLetter(
    group: GroupState,
    batch: MessageBatch<unknown>,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const code = isArgusError(error) ? error.code : 'ARGUS_ERR_HANDLER'
    logger.error(
      {
        topic: batch.topic,
        partition: batch.partition,
        group: group.name,
        firstOffset: batch.firstOffset,
        lastOffset: batch.lastOffset,
        attempts,
        code,
        err: error,
      },
      'handler kept failing; batch sent to the dead-letter topic',
    )
    deadLettered.inc({ topic: batch.topic, group: group.name }, batch.messages.length)
    if (batch.topic === TOPICS.deadLetter) return // never loop on the dead-letter topic itself
    await publish(
      TOPICS.deadLetter,
      batch.messages.map((message) => ({
        key: message.key,
        value: message.value,
        headers: deadLetterHeaders({ ...message, error, group: group.name, attempts }),
      })),
      { timeoutMs: 1_000 },
    ).catch((publishError: unknown) => {
      dropped.inc({ topic: batch.topic, reason: 'dead_letter_full' }, batch.messages.length)
      logger.error(
        { err: publishError, topic: batch.topic },
        'dead-letter topic refused the batch; messages dropped',
      )
    })
  }

  /** Delivers one batch until a handler succeeds, the batch is dead-lettered, or the group stops. Returns whether to commit. */
  async function deliver(
    group: GroupState,
    log: PartitionLog,
    messages: DeliveredMessage[],
  ): Promise<boolean> {
    const first = messages[0] as DeliveredMessage
    const last = messages[messages.length - 1] as DeliveredMessage
    for (let attempt = 1; ; attempt++) {
      const member = group.members[log.index % Math.max(1, group.members.length)]
      if (!member) return false
      const retryOptions: RetryOptions = { ...DEFAULT_RETRY, maxAttempts: 10, ...member.options.retry }
      const batch: MessageBatch<unknown> = {
        topic: log.topic,
        partition: log.index,
        messages,
        firstOffset: first.offset,
        lastOffset: last.offset,
        attempt,
        dedupToken: `${instanceId}:${log.topic}:${log.index}:${first.offset}-${last.offset}`,
      }
      const endTimer = handlerDuration.startTimer({ topic: log.topic, group: group.name })
      try {
        await member.options.handler(batch)
        endTimer()
        return true
      } catch (error) {
        endTimer()
        failures.inc({ topic: log.topic, group: group.name })
        const retriable = (retryOptions.shouldRetry ?? isRetriable)(error)
        if (!retriable || attempt >= retryOptions.maxAttempts) {
          await deadLetter(group, batch, error, attempt)
          return true
        }
        const delayMs = backoffDelay(attempt, retryOptions)
        logger.warn(
          { topic: log.topic, partition: log.index, group: group.name, attempt, delayMs, err: error },
          'handler failed; will redeliver',
        )
        try {
          await sleep(delayMs, group.abort.signal)
        } catch {
          return false // group stopped: leave the batch unacknowledged
        }
      }
    }
  }

  async function runPartition(group: GroupState, log: PartitionLog): Promise<void> {
    const signal = group.abort.signal
    while (!signal.aborted) {
      const member = group.members[log.index % Math.max(1, group.members.length)]
      if (!member) return
      if (member.paused) {
        await waitForData(log, undefined, signal) // resume wakes it
        continue
      }
      const maxBatch = member.options.maxBatchSize ?? 1000
      const maxWaitMs = member.options.maxWaitMs ?? 0
      let cursor = group.cursors.get(log) ?? log.nextOffset
      if (cursor < log.baseOffset) cursor = log.baseOffset
      const available = recordsFrom(log, cursor)
      if (cursor === log.nextOffset) {
        await waitForData(log, undefined, signal)
        continue
      }
      // A partition never holds more than its capacity: waiting for a bigger batch would only wait out the timer.
      if (available < Math.min(maxBatch, log.capacity) && maxWaitMs > 0 && state === 'running') {
        const oldest = log.entries[cursor - log.baseOffset] as DeliveredMessage
        const waitMs = oldest.publishedAt + maxWaitMs - Date.now()
        if (waitMs > 0) {
          await waitForData(log, waitMs, signal)
          continue
        }
      }
      const end = batchEnd(log, cursor, maxBatch)
      const messages = log.entries.slice(cursor - log.baseOffset, end - log.baseOffset)
      group.inFlight.add(log)
      const commit = await deliver(group, log, messages)
      group.inFlight.delete(log)
      if (!commit) return
      group.cursors.set(log, end)
      consumed.inc({ topic: log.topic, group: group.name }, messages.length)
      trim(log)
      notifySpace()
    }
  }

  /** Where a batch from `cursor` ends: as many messages as fit `maxRecords`, at least one. */
  function batchEnd(log: PartitionLog, cursor: number, maxRecords: number): number {
    const limit = recordsBefore(log, cursor) + maxRecords
    // recordsThrough only grows: the last entry within the limit is found by bisection.
    let low = cursor - log.baseOffset + 1
    let high = log.nextOffset - log.baseOffset
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((log.recordsThrough[middle] as number) <= limit) low = middle + 1
      else high = middle
    }
    return low + log.baseOffset
  }

  function ensureLoops(group: GroupState): void {
    for (const topic of group.topics) {
      for (const log of partitionsOf(topic)) {
        if (group.loops.has(log)) continue
        const loop = runPartition(group, log).catch((error: unknown) => {
          logger.error(
            { err: error, topic, partition: log.index, group: group.name },
            'consumer loop crashed',
          )
        })
        group.loops.set(log, loop)
      }
    }
  }

  async function subscribe<T>(subscribeOptions: SubscribeOptions<T>): Promise<Subscription> {
    if (state !== 'running') throw new ArgusError('ARGUS_ERR_STOPPED', 'bus is stopping')
    const member: Member = {
      id: randomUUID(),
      options: subscribeOptions as SubscribeOptions<unknown>,
      paused: false,
    }
    let group = groups.get(subscribeOptions.group)
    if (!group) {
      group = {
        name: subscribeOptions.group,
        topics: new Set(),
        members: [],
        cursors: new Map(),
        inFlight: new Set(),
        loops: new Map(),
        abort: new AbortController(),
      }
      // Every partition loop of the group waits on this one signal.
      setMaxListeners(0, group.abort.signal)
      groups.set(group.name, group)
    }
    for (const topic of subscribeOptions.topics) {
      group.topics.add(topic)
      for (const log of partitionsOf(topic)) {
        if (!group.cursors.has(log))
          group.cursors.set(log, subscribeOptions.fromBeginning === false ? log.nextOffset : log.baseOffset)
      }
    }
    group.members.push(member)
    ensureLoops(group)
    const joined = group
    let stopped = false
    const wakeAll = (): void => {
      for (const topic of subscribeOptions.topics)
        for (const log of partitionsOf(topic)) for (const wake of [...log.wakeConsumers]) wake()
    }
    return {
      group: joined.name,
      get paused() {
        return member.paused
      },
      pause() {
        member.paused = true
      },
      resume() {
        member.paused = false
        wakeAll()
      },
      stop: async () => {
        if (stopped) return
        stopped = true
        joined.members = joined.members.filter((m) => m !== member)
        if (joined.members.length > 0) return
        // Last member left: stop the loops and release the group's hold on the buffers.
        joined.abort.abort()
        await Promise.all(joined.loops.values())
        groups.delete(joined.name)
        for (const logs of topics.values()) for (const log of logs) trim(log)
        notifySpace()
      },
    }
  }

  function idle(): boolean {
    for (const group of groups.values()) {
      if (group.inFlight.size > 0) return false
      for (const [log, cursor] of group.cursors) if (cursor < log.nextOffset) return false
    }
    return true
  }

  async function drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!idle()) {
      if (Date.now() >= deadline) return false
      await sleep(5)
    }
    return true
  }

  return {
    name: 'in-process-bus',
    publish,
    subscribe,
    drain,
    start: () => Promise.resolve(),
    async stop() {
      if (state !== 'running') return
      state = 'stopping'
      const drained = await drain(10_000)
      if (!drained)
        logger.warn(
          'bus stopped before every consumer caught up; unacknowledged messages are lost with the process',
        )
      state = 'stopped'
      for (const group of groups.values()) group.abort.abort()
      await Promise.all([...groups.values()].flatMap((g) => [...g.loops.values()]))
      notifySpace()
    },
  }
}
