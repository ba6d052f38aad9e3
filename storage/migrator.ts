import type { ClickHouseClient } from '@clickhouse/client'
import type { Logger } from '../core/index.js'
import { MIGRATIONS, type Migration } from './migrations.js'
import { FINDING_TABLES, SIGNAL_TABLES, TABLES, TIME_COLUMN, type TableName } from './tables.js'
import { storageError } from './clickhouse-client.js'

export interface RetentionDays {
  signals: number
  findings: number
}

/**
 * Applies versioned migrations once each, in order. Statements are idempotent, so two processes
 * migrating at once, or a rerun after a crash, converge on the same schema.
 */
export async function migrate(
  client: ClickHouseClient,
  db: string,
  logger: Logger,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` })
    await client.command({
      query: `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.migrations} (
        version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree ORDER BY version`,
    })
    const result = await client.query({
      query: `SELECT version FROM ${db}.${TABLES.migrations} FINAL`,
      format: 'JSONEachRow',
    })
    const applied = new Set((await result.json<{ version: number }>()).map((row) => Number(row.version)))
    const appliedNow: number[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue
      for (const statement of migration.statements(db)) await client.command({ query: statement })
      await client.insert({
        table: `${db}.${TABLES.migrations}`,
        values: [{ version: migration.version, name: migration.name }],
        format: 'JSONEachRow',
      })
      logger.info({ version: migration.version, name: migration.name }, 'storage migration applied')
      appliedNow.push(migration.version)
    }
    return appliedNow
  } catch (error) {
    throw storageError(error, 'storage migration failed')
  }
}

/**
 * Sets each table's TTL from configuration, altering only tables whose TTL differs. `engines` maps
 * each table of the database to its `engine_full` (see `tableEngines`).
 */
export async function applyRetention(
  client: ClickHouseClient,
  db: string,
  retention: RetentionDays,
  engines: ReadonlyMap<string, string>,
  logger: Logger,
): Promise<void> {
  const desired = new Map<TableName, number>()
  for (const table of SIGNAL_TABLES) desired.set(table, retention.signals)
  for (const table of FINDING_TABLES) desired.set(table, retention.findings)
  try {
    for (const [table, days] of desired) {
      const engine = engines.get(table)
      if (engine === undefined || engine.includes(`toIntervalDay(${days})`)) continue
      const column = TIME_COLUMN[table] ?? 'ts'
      // Integers from validated config, not user text: safe to place in DDL, which takes no parameters.
      await client.command({
        query: `ALTER TABLE ${db}.${table} MODIFY TTL toDateTime(${column}) + INTERVAL ${Math.trunc(days)} DAY`,
        clickhouse_settings: { materialize_ttl_after_modify: 0 },
      })
      logger.info({ table, days }, 'storage retention set')
    }
  } catch (error) {
    throw storageError(error, 'setting storage retention failed')
  }
}
