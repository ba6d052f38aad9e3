import type { ClickHouseClient } from '@clickhouse/client'
import {
  ArgusError,
  counter,
  gauge,
  histogram,
  retry,
  type Logger,
  type Registry,
  type RetryOptions,
} from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { TOPIC_TABLES, type StoredMessage } from './row-mappers.js'

export interface TopicWriter {
  /**
   * Inserts one batch of a topic's messages as one ClickHouse block and resolves after ClickHouse
   * acknowledges it, so the caller can then acknowledge the bus. The same `dedupToken` makes a
   * repeated insert of the same batch a no-op.
   */
  write(
    topic: string,
    messages: readonly StoredMessage[],
    dedupToken: string,
    durable?: DurableOffsets,
  ): Promise<void>
  /** Waits for in-flight inserts; later writes fail with ARGUS_ERR_STOPPED. */
  stop(): Promise<void>
}

/**
 * Set when the bus's offsets survive restarts (Kafka): rows then record their partition and offset,
 * and messages at or below what storage already holds for that partition are skipped, so a
 * redelivery after a crash, whatever its batch boundaries, adds no duplicates.
 */
export interface DurableOffsets {
  /** Identifies the offset space, e.g. `kafka:<cluster id>`: offsets from elsewhere are not compared. */
  source: string
  partition: number
  /** Changes whenever partitions are reassigned: continuity is only trusted within one generation. */
  generation: number
}

export interface TopicWriterOptions {
  client: ClickHouseClient
  database: string
  logger: Logger
  metrics: Registry
  /** Concurrent inserts; further writes wait (backpressure to the bus). */
  maxInFlight: number
  retry?: Partial<RetryOptions>
}

export function createTopicWriter(options: TopicWriterOptions): TopicWriter {
  const { client, database, logger, metrics } = options
  const rowsWritten = counter(metrics, 'argus_storage_rows_written_total', 'Rows inserted into ClickHouse', [
    'table',
  ])
  const insertFailures = counter(metrics, 'argus_storage_insert_failures_total', 'Failed insert attempts', [
    'table',
  ])
  const insertDuration = histogram(
    metrics,
    'argus_storage_insert_duration_seconds',
    'Insert latency per block',
    ['table'],
  )
  let inFlight = 0
  gauge(metrics, 'argus_storage_inserts_in_flight', 'Inserts running now', [], function () {
    this.set(inFlight)
  })
  const waiting: Array<() => void> = []
  const idleWaiters: Array<() => void> = []
  let stopped = false

  async function acquire(): Promise<void> {
    while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve))
    inFlight++
  }
  function release(): void {
    inFlight--
    waiting.shift()?.()
    if (inFlight === 0) for (const wake of idleWaiters.splice(0)) wake()
  }

  const skipped = counter(
    metrics,
    'argus_storage_redelivered_rows_skipped_total',
    'Redelivered rows already in storage',
    ['table'],
  )

  /**
   * The highest offset (+1) stored for a table from one bus partition; 0 when none. The view's mark
   * first, then the rows above it, in case an insert committed its rows but not the view's part.
   */
  async function storedThrough(table: string, durable: DurableOffsets): Promise<number> {
    const params = { table, source: durable.source, partition: durable.partition }
    const marks = await client.query({
      query: `SELECT max(max_offset) AS through FROM ${database}.bus_offsets
        WHERE table_name = {table:String} AND bus_source = {source:String} AND bus_partition = {partition:UInt16}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    const mark = Number((await marks.json<{ through: number | string | null }>())[0]?.through ?? 0)
    const rows = await client.query({
      query: `SELECT max(bus_offset) AS through FROM ${database}.${table}
        WHERE bus_offset > {mark:UInt64} AND bus_source = {source:String} AND bus_partition = {partition:UInt16}`,
      query_params: { ...params, mark },
      format: 'JSONEachRow',
    })
    return Math.max(mark, Number((await rows.json<{ through: number | string | null }>())[0]?.through ?? 0))
  }

  /** Where each partition's next chunk starts when nothing interrupted this writer. */
  const expectedNext = new Map<string, { generation: number; offset: number }>()

  async function write(
    topic: string,
    messages: readonly StoredMessage[],
    dedupToken: string,
    durable?: DurableOffsets,
  ): Promise<void> {
    if (stopped) throw new ArgusError('ARGUS_ERR_STOPPED', 'storage writer is stopped', { retriable: true })
    const target = TOPIC_TABLES[topic]
    if (!target) throw new ArgusError('ARGUS_ERR_INTERNAL', `no table for topic ${topic}`)
    if (messages.length === 0) return
    await acquire()
    try {
      let pending = messages
      const continuityKey = durable && `${target.table}|${durable.source}|${durable.partition}`
      if (durable && continuityKey) {
        const first = pending[0]?.offset ?? -1
        const expected = expectedNext.get(continuityKey)
        // A chunk that starts where this writer's last one ended, in the same assignment, cannot
        // overlap stored rows; anything else (first chunk, redelivery, rebalance) is checked.
        const continuing =
          expected !== undefined && expected.generation === durable.generation && expected.offset === first
        const through = continuing
          ? first
          : await retry(
              () =>
                storedThrough(target.table, durable).catch((error: unknown) =>
                  Promise.reject(storageError(error, 'reading bus offsets failed')),
                ),
              {
                maxAttempts: 5,
                initialDelayMs: 200,
              },
            )
        pending = messages.filter((m) => (m.offset ?? -1) + 1 > through)
        if (pending.length < messages.length) {
          skipped.inc({ table: target.table }, messages.length - pending.length)
          logger.info(
            { table: target.table, partition: durable.partition, skipped: messages.length - pending.length },
            'redelivered rows already stored; skipped',
          )
        }
        expectedNext.set(continuityKey, {
          generation: durable.generation,
          offset: (messages[messages.length - 1]?.offset ?? -1) + 1,
        })
        if (pending.length === 0) return
      }
      // Bus position first (stored offset + 1, so 0 means "not from a durable bus"), then the table's columns.
      const rows = pending.map((message) => [
        durable?.source ?? '',
        durable?.partition ?? 0,
        durable ? (message.offset ?? -1) + 1 : 0,
        ...target.toRow(message),
      ])
      await retry(
        async () => {
          const endTimer = insertDuration.startTimer({ table: target.table })
          try {
            await client.insert({
              table: `${database}.${target.table}`,
              values: rows,
              columns: ['bus_source', 'bus_partition', 'bus_offset', ...target.columns],
              format: 'JSONCompactEachRow',
              // One token per bus batch: a retry, or a redelivery of the same batch, inserts nothing new.
              clickhouse_settings: {
                insert_deduplicate: 1,
                insert_deduplication_token: dedupToken,
                deduplicate_blocks_in_dependent_materialized_views: 1,
              },
            })
          } catch (error) {
            insertFailures.inc({ table: target.table })
            throw storageError(error, `insert into ${target.table} failed`)
          } finally {
            endTimer()
          }
        },
        {
          maxAttempts: 5,
          initialDelayMs: 200,
          maxDelayMs: 5_000,
          ...options.retry,
          onRetry: ({ attempt, delayMs, error }) =>
            logger.warn(
              { table: target.table, attempt, delayMs, err: error },
              'insert failed; retrying with the same token',
            ),
        },
      )
      rowsWritten.inc({ table: target.table }, rows.length)
    } finally {
      release()
    }
  }

  return {
    write,
    async stop() {
      stopped = true
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve))
    },
  }
}
