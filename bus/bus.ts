import { ArgusError, type Component, type RetryOptions } from '../core/index.js'

export interface OutgoingMessage<T = unknown> {
  /** Partition key: messages with one key keep their order (see `partitionKey` in core). */
  key: string
  value: T
  headers?: Record<string, string>
  /**
   * How many records the value stands for (a MetricBatch's points), 1 when not set. The embedded
   * bus bounds its partitions and sizes its batches in records, so a batch weighs what it holds.
   */
  records?: number
}

export interface DeliveredMessage<T = unknown> extends OutgoingMessage<T> {
  topic: string
  partition: number
  offset: number
  /** When the bus accepted the message, epoch ms. */
  publishedAt: number
}

/** Messages of one partition, in offset order. A redelivery after a failure carries the same range. */
export interface MessageBatch<T = unknown> {
  topic: string
  partition: number
  messages: ReadonlyArray<DeliveredMessage<T>>
  firstOffset: number
  lastOffset: number
  /** 1 on first delivery, then counts redeliveries. */
  attempt: number
  /**
   * Identifies this exact range across redeliveries, so an idempotent sink can drop a repeat
   * (the storage writer passes it to ClickHouse as the insert deduplication token).
   */
  dedupToken: string
  /**
   * Set when offsets survive restarts (Kafka): names the offset space (`kafka:<cluster id>`), so a
   * sink can remember how far it got per partition and skip what a redelivery repeats.
   */
  durableOffsetSource?: string
  /** Increases each time this consumer's partitions are reassigned (a rebalance). */
  assignmentGeneration?: number
}

export type BatchHandler<T = unknown> = (batch: MessageBatch<T>) => Promise<void>

export interface SubscribeOptions<T = unknown> {
  /** Consumer group: each partition goes to one member of a group; every group sees every message. */
  group: string
  topics: readonly string[]
  handler: BatchHandler<T>
  /**
   * Deliver at most this many records at once (default 1000); a message of several records (see
   * `OutgoingMessage.records`) counts as that many, and is delivered even alone over the limit.
   */
  maxBatchSize?: number
  /**
   * Wait up to this long for a batch to fill before delivering a smaller one (default 0: deliver at once).
   * This is how a sink flushes "by size or by time".
   */
  maxWaitMs?: number
  /**
   * Kafka only: a fetch waits (up to `maxWaitMs`) until this many bytes are ready, Kafka's own
   * `fetch.min.bytes`. Kafka messages are packs of records, so a sink fills its batches by bytes
   * there; the in-process bus fills them by `maxBatchSize`. Default 1 (deliver what is there).
   */
  minBatchBytes?: number
  /** A new group starts at the oldest retained message (default) or only at new ones. */
  fromBeginning?: boolean
  /**
   * Redelivery policy when the handler throws. Non-retriable errors, and retriable ones past
   * `maxAttempts`, send the batch to the dead-letter topic with the error in headers.
   * Use `maxAttempts: Infinity` for sinks that must never give up (the storage writer).
   */
  retry?: Partial<RetryOptions>
}

export interface Subscription {
  readonly group: string
  /**
   * Stops fetching for this member without leaving the group (its partitions stay assigned, the
   * in-flight batch finishes first): backpressure when the consumer's own sink is down.
   */
  pause(): void
  resume(): void
  readonly paused: boolean
  /** Leaves the group after the in-flight batch finishes; safe twice. */
  stop(): Promise<void>
}

/**
 * A publish the bus gave up waiting for while the send itself goes on (Kafka keeps retrying an
 * unacknowledged batch). `outcome` settles with the truth: a result if it landed after all
 * (`true` from the bus; a caller passing it on may carry its own), undefined if it did not. So a
 * caller that answered "retry" can recognise the resend of a batch that did land.
 */
export class UnconfirmedPublish<R = true> extends ArgusError {
  constructor(
    message: string,
    readonly outcome: Promise<R | undefined>,
  ) {
    super('ARGUS_ERR_PUBLISH_UNCONFIRMED', message, { retriable: true })
    this.name = 'UnconfirmedPublish'
  }
}

export interface PublishOptions {
  /** How long to wait for room in a full buffer before failing with ARGUS_ERR_OVERLOADED. */
  timeoutMs?: number
}

/**
 * The message bus between pipeline stages. At-least-once: a batch is acknowledged only after its
 * handler resolves, and redelivered on failure. Buffers are bounded: `publish` waits for room
 * (backpressure) and fails with a retriable ARGUS_ERR_OVERLOADED after its timeout.
 * Publishing a batch is all-or-nothing.
 */
export interface Bus extends Component {
  publish<T>(
    topic: string,
    messages: ReadonlyArray<OutgoingMessage<T>>,
    options?: PublishOptions,
  ): Promise<void>
  subscribe<T>(options: SubscribeOptions<T>): Promise<Subscription>
  /** Resolves when every active group has handled everything published so far, or the timeout passes. */
  drain(timeoutMs: number): Promise<boolean>
}
