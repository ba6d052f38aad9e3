import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { TABLES } from './tables.js'

export type LogTextIndex = 'ngram' | 'none'

const INDEX_NAME = 'idx_message'
/** The query setting naming skip indexes an insert does not build (merges still do). */
const INSERT_EXCLUSION = 'exclude_materialize_skip_indexes_on_insert'
/** As migration 14 creates it: case-insensitive trigrams of the message, one filter per 4 granules. */
const NGRAM_INDEX = `${INDEX_NAME} lower(message) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 4`

/**
 * Adds or drops the text index of `log_lines` to match configuration. Hashing every trigram of
 * every line is about a fifth of what storing a line costs ClickHouse; without the index a text
 * search reads the message column of the streams and times it selects (as Loki does) instead of
 * skipping granules that lack the text. An index added later covers older parts once the
 * background mutation that builds it for them has run.
 */
export async function applyLogTextIndex(
  client: ClickHouseClient,
  db: string,
  wanted: LogTextIndex,
  logger: Logger,
): Promise<void> {
  try {
    const result = await client.query({
      query: `SELECT count() AS n FROM system.data_skipping_indices
        WHERE database = {db:String} AND table = {table:String} AND name = {name:String}`,
      query_params: { db, table: TABLES.logLines, name: INDEX_NAME },
      format: 'JSONEachRow',
    })
    const [row] = await result.json<{ n: number | string }>()
    const present = Number(row?.n ?? 0) > 0
    if (present === (wanted === 'ngram')) return
    // Names from our own constants and a validated database name: DDL takes no parameters.
    const table = `${db}.${TABLES.logLines}`
    if (wanted === 'none') {
      await client.command({ query: `ALTER TABLE ${table} DROP INDEX IF EXISTS ${INDEX_NAME}` })
    } else {
      await client.command({ query: `ALTER TABLE ${table} ADD INDEX IF NOT EXISTS ${NGRAM_INDEX}` })
      await client.command({
        query: `ALTER TABLE ${table} MATERIALIZE INDEX ${INDEX_NAME}`,
        clickhouse_settings: { mutations_sync: '0' },
      })
    }
    logger.info({ table: TABLES.logLines, index: wanted }, 'log text index set')
  } catch (error) {
    throw storageError(error, 'setting the log text index failed')
  }
}

/**
 * Settings for inserting log lines. With the index on, inserts leave it to merges: new parts are
 * usually merged within minutes, and a merge builds the index of the part it makes, so hashing
 * every trigram of a line at insert as well was work thrown away at its first merge
 * (`bench:forward --per-container`: 16.4-16.9 -> 15.4-15.5 µs of server CPU per line). A search
 * reads the newest parts, not merged yet, whole. A ClickHouse without the setting keeps building
 * the index at insert.
 */
export async function logInsertSettings(
  client: ClickHouseClient,
  index: LogTextIndex,
): Promise<Record<string, string>> {
  if (index === 'none') return {}
  try {
    const result = await client.query({
      query: 'SELECT count() AS n FROM system.settings WHERE name = {name:String}',
      query_params: { name: INSERT_EXCLUSION },
      format: 'JSONEachRow',
    })
    const [row] = await result.json<{ n: number | string }>()
    return Number(row?.n ?? 0) > 0 ? { [INSERT_EXCLUSION]: INDEX_NAME } : {}
  } catch (error) {
    throw storageError(error, 'reading ClickHouse settings failed')
  }
}
