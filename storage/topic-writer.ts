import type { ClickHouseClient } from '@clickhouse/client'
import {
  ArgusError,
  asError,
  checkMetricBatch,
  checkMetricSeries,
  counter,
  gauge,
  histogram,
  retry,
  setBounded,
  type Logger,
  type MetricBatch,
  type Registry,
  type RetryOptions,
} from '../core/index.js'
import { storageError, type RowBlock } from './clickhouse-client.js'
import { encodeRows, type EncodedRows } from './encoded-rows.js'
import { createInsertCoalescer } from './insert-coalescer.js'
import { encodePointRows, encodeRowBinaryOf, type PointColumns } from './row-binary.js'
import {
  DIMENSION_ID_AT,
  metricRollupKey,
  TOPIC_TABLES,
  type BusPosition,
  type NarrowInsert,
  type StoredMessage,
  type TopicTable,
} from './row-mappers.js'

const NOT_FROM_A_DURABLE_BUS: BusPosition = ['', 0, 0]
/** Re-insert a dimension row this often while it is named, far inside any retention. */
const DIMENSION_REFRESH_MS = 3_600_000
const MAX_DIMENSIONS_REMEMBERED = 200_000

export interface TopicWriter {
  /**
   * Inserts one batch of a topic's messages as one ClickHouse block and resolves after ClickHouse
   * acknowledges it, so the caller can then acknowledge the bus. The same `dedupToken` makes a
   * repeated insert of the same batch a no-op. The messages are turned into rows before this
   * returns and not referenced while the insert waits: a caller that drops them too lets them die
   * young.
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
  /** How a block of rows reaches the engine (see StorageClientHandle.insertRows). */
  insertRows: (block: RowBlock) => Promise<void>
  database: string
  logger: Logger
  metrics: Registry
  /** Concurrent writes; further writes wait (backpressure to the bus). */
  maxInFlight: number
  /** Rows per inserted block at most when batches are coalesced (default 200,000). */
  maxBlockRows?: number
  /** Further settings for inserts into a table (by the name the rows are inserted into). */
  insertSettings?: Readonly<Record<string, RowBlock['settings']>>
  retry?: Partial<RetryOptions>
}

/** The table a topic's rows end up in, which carries their bus positions (a narrow insert's may not be the mapper's). */
const recordTableOf = (target: TopicTable): string => target.narrow?.recordTable ?? target.table

/** A batch's rows, ready to insert. */
interface EncodedBatch {
  table: string
  columns: readonly string[]
  rows: EncodedRows
  /** The table the rows are counted for in argus_storage_rows_written_total. */
  countedAs: string
  /** Dimension rows the batch's rows name that storage may not hold yet. */
  dimensions?: EncodedDimensions | undefined
}

interface EncodedDimensions {
  table: string
  columns: readonly string[]
  ids: string[]
  rows: EncodedRows
}

/** What the writer remembers of a dimension row (a log stream, a metric series), by its id. */
interface DimensionMemo {
  /** When the row was last inserted (epoch ms); NOT_WRITTEN before it has been. */
  writtenAt: number
  /** A metric series' rollup key (see metricRollupKey), hashed once; NO_KEY until then. */
  rollupKey: number
}
const NOT_WRITTEN = -Infinity
/** A memo made when a row was written (a log stream's, or a series' from the sample topic) has no key yet. */
const NO_KEY = -1

/** Dimension rows to insert before the rows naming them, by id; undefined when there are none. */
function encodedDimensions(
  narrow: NarrowInsert,
  fresh: Map<string, unknown[]>,
): EncodedDimensions | undefined {
  if (fresh.size === 0) return undefined
  return {
    table: narrow.dimensionTable,
    columns: narrow.dimensionColumns,
    ids: [...fresh.keys()],
    rows: encodeRows([...fresh.values()]),
  }
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
  const blockBatches = histogram(
    metrics,
    'argus_storage_block_batches',
    'Bus batches inserted together in one block (group commit)',
    ['table'],
    [1, 2, 3, 4, 6, 8, 12, 16],
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
    try {
      const result = await client.query({
        query: `WITH (SELECT max(max_offset) FROM ${database}.bus_offsets
            WHERE table_name = {table:String} AND bus_source = {source:String} AND bus_partition = {partition:UInt16}) AS mark
          SELECT greatest(mark, max(bus_offset)) AS through FROM ${database}.${table}
          WHERE bus_offset > mark AND bus_source = {source:String} AND bus_partition = {partition:UInt16}`,
        query_params: { table, source: durable.source, partition: durable.partition },
        format: 'JSONEachRow',
      })
      return Number((await result.json<{ through: number | string | null }>())[0]?.through ?? 0)
    } catch (error) {
      throw storageError(error, 'reading bus offsets failed')
    }
  }

  /**
   * Inserts one block of a table, retried (with the same settings, so a token makes a repeat a
   * no-op) and measured; resolves when ClickHouse acknowledged it.
   */
  function insertRetried(
    table: string,
    columns: readonly string[],
    rows: readonly EncodedRows[],
    settings: RowBlock['settings'],
  ): Promise<void> {
    return retry(
      async () => {
        const endTimer = insertDuration.startTimer({ table })
        try {
          await options.insertRows({ table: `${database}.${table}`, rows, columns, settings })
        } catch (error) {
          insertFailures.inc({ table })
          throw storageError(error, `insert into ${table} failed`)
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
          logger.warn({ table, attempt, delayMs, err: error }, 'insert failed; retrying the same block'),
      },
    )
  }

  const coalescer = createInsertCoalescer({
    maxRows: options.maxBlockRows ?? 200_000,
    insert: async (block) => {
      // One token per block: a retry of the same block inserts nothing new.
      await insertRetried(block.table, block.columns, block.rows, {
        insert_deduplicate: 1,
        insert_deduplication_token: block.token,
        deduplicate_blocks_in_dependent_materialized_views: 1,
        ...options.insertSettings?.[block.table],
      })
      blockBatches.observe({ table: block.table }, block.batches)
    },
  })

  /**
   * Dimension rows (log streams, metric series) this writer inserted, by id, with when: a row is
   * inserted again after DIMENSION_REFRESH_MS so its last_seen keeps it from expiring. Bounded;
   * forgetting one only means inserting it again.
   */
  const dimensionsWritten = new Map<string, DimensionMemo>()
  const dimensionsInserted = counter(
    metrics,
    'argus_storage_dimension_rows_written_total',
    'Dimension rows (log streams, metric series) inserted before the rows that name them',
    ['table'],
  )
  const isDue = (memo: DimensionMemo | undefined, now: number): boolean =>
    memo === undefined || now - memo.writtenAt >= DIMENSION_REFRESH_MS

  /**
   * The dimension rows of the records not written lately (by the ids their rows name, `ids`; the
   * record of `ids[i]` is `recordAt(i)`), so that rows may name them; undefined when there are none.
   */
  function freshDimensions(
    narrow: NarrowInsert,
    recordAt: (index: number) => unknown,
    ids: readonly string[],
  ): EncodedDimensions | undefined {
    const now = Date.now()
    const fresh = new Map<string, unknown[]>()
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string
      if (!isDue(dimensionsWritten.get(id), now) || fresh.has(id)) continue
      fresh.set(id, narrow.dimensionRow(recordAt(i), id, Math.floor(now / 1000)))
    }
    return encodedDimensions(narrow, fresh)
  }

  /** A batch as the rows (and dimension rows) to insert: built at once, so its messages can go. */
  function encodeBatch(
    target: TopicTable,
    messages: readonly StoredMessage[],
    durable?: DurableOffsets,
  ): EncodedBatch {
    const positionOf = (message: StoredMessage): BusPosition =>
      durable ? [durable.source, durable.partition, (message.offset ?? -1) + 1] : NOT_FROM_A_DURABLE_BUS
    const narrow = target.narrow
    if (narrow && target.pointBatches) return encodePointBatches(target, narrow, messages, positionOf)
    if (narrow) {
      const ids: string[] = new Array<string>(messages.length)
      const rows = encodeRowBinaryOf(
        messages.length,
        (index) => {
          const message = messages[index] as StoredMessage
          const row = narrow.narrowRow(message, positionOf(message))
          ids[index] = row[DIMENSION_ID_AT] as string
          return row
        },
        narrow.intake,
      )
      return {
        table: narrow.intakeTable,
        columns: narrow.intake.columns,
        countedAs: recordTableOf(target),
        dimensions: freshDimensions(narrow, (index) => (messages[index] as StoredMessage).value, ids),
        rows,
      }
    }
    return {
      table: target.table,
      columns: target.columns,
      countedAs: target.table,
      rows: encodeRows(messages.map((message) => target.toRow(message, positionOf(message)))),
    }
  }

  /**
   * MetricBatch messages as the intake rows of their points, encoded from the batches' columns;
   * their series are the dimension rows. Throws a non-retriable ARGUS_ERR_BAD_INPUT for a
   * malformed batch, so the bus dead-letters it.
   */
  function encodePointBatches(
    target: TopicTable,
    narrow: NarrowInsert,
    messages: readonly StoredMessage[],
    positionOf: (message: StoredMessage) => BusPosition,
  ): EncodedBatch {
    const blocks: PointColumns[] = []
    const now = Date.now()
    const fresh = new Map<string, unknown[]>()
    for (const message of messages) {
      const batch = message.value as MetricBatch
      checkMetricBatch(batch)
      const batchIds = new Array<string>(batch.series.length)
      const batchKeys = new Array<number>(batch.series.length)
      for (let s = 0; s < batch.series.length; s++) {
        const one = batch.series[s] as MetricBatch['series'][number]
        // Only the id is read here; a series is checked whole when its key or row is made.
        if (typeof one?.seriesId !== 'string') checkMetricSeries(one)
        const id = one.seriesId
        // One lookup per series gives its rollup key and whether its row is due.
        let memo = dimensionsWritten.get(id)
        if (memo === undefined) {
          memo = { writtenAt: NOT_WRITTEN, rollupKey: NO_KEY }
          setBounded(dimensionsWritten, id, memo, MAX_DIMENSIONS_REMEMBERED)
        }
        const due = isDue(memo, now) && !fresh.has(id)
        if (memo.rollupKey === NO_KEY || due) checkMetricSeries(one)
        if (memo.rollupKey === NO_KEY) memo.rollupKey = metricRollupKey(one)
        batchIds[s] = id
        batchKeys[s] = memo.rollupKey
        if (due) fresh.set(id, narrow.dimensionRow(one, id, Math.floor(now / 1000)))
      }
      blocks.push({
        shared: positionOf(message),
        series: batchIds,
        seriesKeys: batchKeys,
        seriesIndex: batch.seriesIndex,
        ts: batch.ts,
        value: batch.value,
      })
    }
    return {
      table: narrow.intakeTable,
      columns: narrow.intake.columns,
      countedAs: recordTableOf(target),
      dimensions: encodedDimensions(narrow, fresh),
      rows: encodePointRows(blocks, narrow.intake),
    }
  }

  /** Inserts an encoded batch: its new dimension rows first, then its rows (group-committed). */
  async function insertBatch(batch: EncodedBatch, dedupToken: string): Promise<void> {
    await acquire()
    try {
      const dimensions = batch.dimensions
      if (dimensions) {
        const now = Date.now()
        // No token: a repeated stream or series row is harmless (ReplacingMergeTree folds it).
        await insertRetried(dimensions.table, dimensions.columns, [dimensions.rows], {})
        dimensionsInserted.inc({ table: dimensions.table }, dimensions.ids.length)
        for (const id of dimensions.ids) {
          const memo = dimensionsWritten.get(id) ?? { writtenAt: NOT_WRITTEN, rollupKey: NO_KEY }
          memo.writtenAt = now
          setBounded(dimensionsWritten, id, memo, MAX_DIMENSIONS_REMEMBERED)
        }
      }
      await coalescer.submit(batch.table, batch.columns, batch.rows, dedupToken)
      rowsWritten.inc({ table: batch.countedAs }, batch.rows.count)
    } finally {
      release()
    }
  }

  /** Where each partition's next chunk starts when nothing interrupted this writer. */
  const expectedNext = new Map<string, { generation: number; offset: number }>()

  /** The messages above what storage holds for their partition; counts and logs the rest. */
  function notYetStored(
    target: TopicTable,
    messages: readonly StoredMessage[],
    through: number,
    durable: DurableOffsets,
  ): readonly StoredMessage[] {
    const pending = messages.filter((m) => (m.offset ?? -1) + 1 > through)
    if (pending.length < messages.length) {
      const table = recordTableOf(target)
      // A point batch is as many rows as it has points.
      const rows = (list: readonly StoredMessage[]): number =>
        target.pointBatches
          ? list.reduce((sum, m) => sum + ((m.value as MetricBatch).ts?.length ?? 0), 0)
          : list.length
      const skippedRows = rows(messages) - rows(pending)
      skipped.inc({ table }, skippedRows)
      logger.info(
        { table, partition: durable.partition, skipped: skippedRows },
        'redelivered rows already stored; skipped',
      )
    }
    return pending
  }

  /** Encodes and inserts a batch; a batch that does not encode is a rejection, not a throw. */
  function encodeAndInsert(
    target: TopicTable,
    messages: readonly StoredMessage[],
    dedupToken: string,
    durable?: DurableOffsets,
  ): Promise<void> {
    let batch: EncodedBatch
    try {
      batch = encodeBatch(target, messages, durable)
    } catch (error) {
      return Promise.reject(asError(error))
    }
    return insertBatch(batch, dedupToken)
  }

  // Not async: the messages are referenced only until they are encoded, unless a redelivery check
  // has to wait for storage first.
  function write(
    topic: string,
    messages: readonly StoredMessage[],
    dedupToken: string,
    durable?: DurableOffsets,
  ): Promise<void> {
    if (stopped)
      return Promise.reject(
        new ArgusError('ARGUS_ERR_STOPPED', 'storage writer is stopped', { retriable: true }),
      )
    const target = TOPIC_TABLES[topic]
    if (!target) return Promise.reject(new ArgusError('ARGUS_ERR_INTERNAL', `no table for topic ${topic}`))
    if (messages.length === 0) return Promise.resolve()
    if (!durable) return encodeAndInsert(target, messages, dedupToken)
    if (target.pointBatches) durable = { ...durable, source: `${durable.source}/${topic}` }
    const recordTable = recordTableOf(target)
    const continuityKey = `${recordTable}|${durable.source}|${durable.partition}`
    const first = messages[0]?.offset ?? -1
    const expected = expectedNext.get(continuityKey)
    const next = { generation: durable.generation, offset: (messages[messages.length - 1]?.offset ?? -1) + 1 }
    // A chunk that starts where this writer's last one ended, in the same assignment, cannot
    // overlap stored rows; anything else (first chunk, redelivery, rebalance) is checked.
    if (expected !== undefined && expected.generation === durable.generation && expected.offset === first) {
      expectedNext.set(continuityKey, next)
      return encodeAndInsert(target, messages, dedupToken, durable)
    }
    return retry(() => storedThrough(recordTable, durable), { maxAttempts: 5, initialDelayMs: 200 }).then(
      (through) => {
        const pending = notYetStored(target, messages, through, durable)
        expectedNext.set(continuityKey, next)
        if (pending.length === 0) return undefined
        return encodeAndInsert(target, pending, dedupToken, durable)
      },
    )
  }

  return {
    write,
    async stop() {
      stopped = true
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve))
    },
  }
}
