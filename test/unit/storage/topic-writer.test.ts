import { describe, expect, it, vi } from 'vitest'
import {
  TOPICS,
  createMetricsRegistry,
  metricSeriesId,
  type LogRecord,
  type MetricBatch,
  type MetricSeries,
} from '../../../core/index.js'
import type { ClickHouseClient, RowBlock } from '../../../storage/clickhouse-client.js'
import { joinEncodedRows } from '../../../storage/encoded-rows.js'
import { TOPIC_TABLES, metricRollupKey, type StoredMessage } from '../../../storage/row-mappers.js'
import { createTopicWriter } from '../../../storage/topic-writer.js'
import { stillReachable } from '../../helpers/collect-garbage.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { eventLoopTurns } from '../../helpers/event-loop.js'
import { readRowBinary } from '../../helpers/row-binary-reader.js'

/** A writer whose blocks go to `insertRows`. */
const writerInserting = (insertRows: (block: RowBlock) => Promise<void>) =>
  createTopicWriter({
    // Not used: nothing here reads storage (no durable offsets to check).
    client: {} as ClickHouseClient,
    insertRows,
    database: 'argus',
    logger: quietLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    maxInFlight: 4,
  })

/** A writer whose inserts wait until the test lets them finish. */
function heldWriter() {
  const blocks: RowBlock[] = []
  const finish: Array<() => void> = []
  const writer = writerInserting(
    (block) =>
      new Promise<void>((resolve) => {
        blocks.push(block)
        finish.push(resolve)
      }),
  )
  return { writer, blocks, finish }
}

function logMessages(count: number, refs: Array<WeakRef<object>>): StoredMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const value: LogRecord = {
      ts: 1_700_000_000_000 + i,
      cluster: 'default',
      namespace: 'shop',
      pod: 'cart-1',
      container: 'cart',
      level: 'info',
      source: 'fluent-bit-http',
      message: `line ${i}`,
      attributes: { 'label.app': 'cart', request: `r${i}` },
    }
    refs.push(new WeakRef(value))
    return { key: 'default/shop/cart', value, publishedAt: 0 }
  })
}

/** Two turns of the event loop: the coalescer waits one before it takes a block. */
const tick = () => eventLoopTurns(2)

describe('topic writer', () => {
  it('holds a batch as encoded rows, not its messages, while the insert waits', async () => {
    const { writer, blocks, finish } = heldWriter()
    const refs: Array<WeakRef<object>> = []
    const written = writer.write(TOPICS.logs, logMessages(50, refs), 'batch-1')
    await tick()
    // The stream's dimension row goes first.
    expect(blocks.map((b) => b.table)).toEqual(['argus.log_streams'])
    finish[0]!()
    await tick()
    expect(blocks.map((b) => b.table)).toEqual(['argus.log_streams', 'argus.log_intake'])
    // The line insert has not been acknowledged: nothing may keep the records alive meanwhile.
    // At most one: the row mapper remembers the last stream's first line (to skip hashing the next).
    expect(await stillReachable(refs)).toBeLessThanOrEqual(1)
    const block = joinEncodedRows(blocks[1]!.rows)
    expect(block.format).toBe('RowBinary')
    const rows = readRowBinary(block.bytes, TOPIC_TABLES[TOPICS.logs]!.narrow!.intake.types)
    expect(rows).toHaveLength(50)
    // Bus position, stream id, ts, level, template, message, the line's own attributes.
    expect(rows[7]).toEqual([
      '',
      0,
      0,
      expect.stringMatching(/^[0-9a-f]{16}$/),
      1_700_000_000_007,
      'info',
      '',
      'line 7',
      { request: 'r7' },
    ])
    expect(blocks[1]!.settings).toMatchObject({ insert_deduplication_token: 'batch-1' })
    finish[1]!()
    await written
    await writer.stop()
  })

  it("writes a series' row once, again after an hour, and each point with its series' rollup key", async () => {
    const blocks: RowBlock[] = []
    const writer = writerInserting(async (block) => {
      blocks.push(block)
    })
    const series = ['cart-1', 'cart-2'].map((pod) => {
      const one: Omit<MetricSeries, 'seriesId'> = {
        cluster: 'prod',
        namespace: 'shop',
        pod,
        workload: { kind: 'Deployment', name: 'cart' },
        name: 'http_requests_total',
        type: 'counter',
        labels: { code: '200' },
      }
      return { ...one, seriesId: metricSeriesId(one) }
    })
    const batch = (ts: number): StoredMessage => {
      const value: MetricBatch = { series, seriesIndex: [0, 1, 1], ts: [ts, ts, ts + 1], value: [1, 2, 3] }
      return { key: 'prod/shop/Deployment/cart', value, publishedAt: 0 }
    }
    const start = 1_700_000_000_000
    const now = vi.spyOn(Date, 'now')
    try {
      // The first pod's series came as a sample first (a scrape): its row is written then, and the
      // batches after still carry its rollup key.
      now.mockReturnValue(start)
      const { seriesId: _id, ...scraped } = series[0]!
      await writer.write(
        TOPICS.metrics,
        [{ key: 'prod/shop/Deployment/cart', value: { ...scraped, ts: 0, value: 0 }, publishedAt: 0 }],
        'sample',
      )
      for (const [at, ts] of [
        [start, 1],
        [start + 1000, 2],
        [start + 3_599_999, 3],
        [start + 3_600_000, 4],
      ] as const) {
        now.mockReturnValue(at)
        await writer.write(TOPICS.metricBatches, [batch(ts)], `b${ts}`)
      }
    } finally {
      now.mockRestore()
    }
    const rowsIn = (table: string) =>
      blocks.filter((b) => b.table === table).map((b) => b.rows.reduce((n, rows) => n + rows.count, 0))
    // Each series' row first, and again once an hour has gone by since it was written.
    expect(rowsIn('argus.metric_series')).toEqual([1, 1, 2])
    expect(rowsIn('argus.metric_intake')).toEqual([1, 3, 3, 3, 3])
    const intake = TOPIC_TABLES[TOPICS.metricBatches]!.narrow!.intake
    const keyAt = intake.columns.indexOf('rollup_key')
    const keys = blocks
      .filter((b) => b.table === 'argus.metric_intake')
      .map((b) => readRowBinary(joinEncodedRows(b.rows).bytes, intake.types).map((row) => row[keyAt]))
    const [first, second] = series.map((one) => metricRollupKey(one))
    expect(keys).toEqual([[first], ...Array.from({ length: 4 }, () => [first, second, second])])
    // Two pods, two rollup keys.
    expect(metricRollupKey(series[0]!)).not.toBe(metricRollupKey(series[1]!))
    await writer.stop()
  })

  it('refuses writes once stopped, and a topic it has no table for', async () => {
    const { writer } = heldWriter()
    await expect(writer.write('argus.nothing', [], 't')).rejects.toMatchObject({ code: 'ARGUS_ERR_INTERNAL' })
    await writer.stop()
    await expect(writer.write(TOPICS.logs, logMessages(1, []), 't')).rejects.toMatchObject({
      code: 'ARGUS_ERR_STOPPED',
      retriable: true,
    })
  })
})
