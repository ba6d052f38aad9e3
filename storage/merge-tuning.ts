import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { TABLES, type TableName } from './tables.js'

/** Tables filled in many small blocks, one or several a second, all day: lines and points. */
const HIGH_VOLUME_TABLES: readonly TableName[] = [TABLES.logLines, TABLES.metricPoints]

/**
 * How many parts of like size ClickHouse gathers before it merges them (its default is 5). The
 * writer inserts a block every few hundred milliseconds; with the default, each line was rewritten
 * four or five times by merges within a minute, which cost more CPU than inserting it. At 20 a line
 * is rewritten about once in that time, and a day's partition holds a few dozen parts more, which
 * reads do not notice. Measured on 80 blocks of 15,000 log lines: 12.5-12.8 -> 8.1-9.1 µs of CPU per
 * line with merges included.
 */
export const MERGE_SELECTOR_BASE = 20

/**
 * Sets the merge selector of the high-volume tables where the engine has the setting (ClickHouse
 * servers older than it keep their defaults; nothing else depends on it). `engines` maps each
 * table of the database to its `engine_full` (see `tableEngines`).
 */
export async function applyMergeTuning(
  client: ClickHouseClient,
  db: string,
  engines: ReadonlyMap<string, string>,
  logger: Logger,
): Promise<void> {
  try {
    const known = await client.query({
      query: "SELECT count() AS n FROM system.merge_tree_settings WHERE name = 'merge_selector_base'",
      format: 'JSONEachRow',
    })
    const [row] = await known.json<{ n: number | string }>()
    if (Number(row?.n ?? 0) === 0) {
      logger.info('ClickHouse has no merge_selector_base setting; merges keep its defaults')
      return
    }
    for (const table of HIGH_VOLUME_TABLES) {
      const engine = engines.get(table)
      if (engine === undefined || engine.includes(`merge_selector_base = ${MERGE_SELECTOR_BASE}`)) continue
      // A table name from our own list and a validated database name: DDL takes no parameters.
      await client.command({
        query: `ALTER TABLE ${db}.${table} MODIFY SETTING merge_selector_base = ${MERGE_SELECTOR_BASE}`,
      })
      logger.info({ table, mergeSelectorBase: MERGE_SELECTOR_BASE }, 'merge selector set')
    }
  } catch (error) {
    throw storageError(error, 'tuning merges failed')
  }
}
