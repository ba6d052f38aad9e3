import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../core/index.js'
import { storageError } from './clickhouse-client.js'
import { applyLogTextIndex, type LogTextIndex } from './log-text-index.js'
import { applyMergeTuning } from './merge-tuning.js'
import { applyRetention, type RetentionDays } from './migrator.js'

export interface TableSettings {
  retention: RetentionDays
  logTextIndex: LogTextIndex
}

/** Each table of `db` with its `engine_full` (engine, TTL and settings as ClickHouse shows them). */
export async function tableEngines(client: ClickHouseClient, db: string): Promise<Map<string, string>> {
  try {
    const result = await client.query({
      query: 'SELECT name, engine_full FROM system.tables WHERE database = {db:String}',
      query_params: { db },
      format: 'JSONEachRow',
    })
    return new Map(
      (await result.json<{ name: string; engine_full: string }>()).map((row) => [row.name, row.engine_full]),
    )
  } catch (error) {
    throw storageError(error, 'reading table settings failed')
  }
}

/**
 * What configuration and the engine decide about the migrated tables, applied after migration and
 * at every start: TTLs from the retention, the log text index, and merge tuning. Each alters only
 * what differs, so a start with unchanged configuration alters nothing.
 */
export async function applyTableSettings(
  client: ClickHouseClient,
  db: string,
  settings: TableSettings,
  logger: Logger,
): Promise<void> {
  const engines = await tableEngines(client, db)
  await applyRetention(client, db, settings.retention, engines, logger)
  await applyLogTextIndex(client, db, settings.logTextIndex, logger)
  await applyMergeTuning(client, db, engines, logger)
}
