import { describe, expect, it } from 'vitest'
import { TOPICS, createMetricsRegistry, type LogRecord } from '../../../core/index.js'
import type { ClickHouseClient, RowBlock } from '../../../storage/clickhouse-client.js'
import { joinEncodedRows } from '../../../storage/encoded-rows.js'
import { TOPIC_TABLES, type StoredMessage } from '../../../storage/row-mappers.js'
import { createTopicWriter } from '../../../storage/topic-writer.js'
import { stillReachable } from '../../helpers/collect-garbage.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { eventLoopTurns } from '../../helpers/event-loop.js'
import { readRowBinary } from '../../helpers/row-binary-reader.js'

/** A writer whose inserts wait until the test lets them finish. */
function heldWriter() {
  const blocks: RowBlock[] = []
  const finish: Array<() => void> = []
  const writer = createTopicWriter({
    // Not used: nothing here reads storage (no durable offsets to check).
    client: {} as ClickHouseClient,
    insertRows: (block) =>
      new Promise<void>((resolve) => {
        blocks.push(block)
        finish.push(resolve)
      }),
    database: 'argus',
    logger: quietLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    maxInFlight: 4,
  })
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
