import { mkdirSync, rmSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { join, resolve } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import { ArgusError, errorMessage } from '../core/index.js'
import { encodedParts, joinedParts, type EncodedRows } from './encoded-rows.js'

export type { ClickHouseClient } from '@clickhouse/client'

export interface ClickHouseTarget {
  /** A ClickHouse server; when absent, embedded ClickHouse (chdb) stores data under `dataDir`. */
  url?: string | undefined
  username?: string | undefined
  password?: string | undefined
  dataDir: string
}

type ChdbClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

/** chdb allows one data directory per process, so the embedded client is shared and reference-counted. */
let embedded:
  | { path: string; client: ClickHouseClient; insertRows: (block: RowBlock) => Promise<void>; users: number }
  | undefined

/** One block of rows (columns in this order, in one or more batches of one format) inserted with these settings. */
export interface RowBlock {
  table: string
  columns: readonly string[]
  rows: readonly EncodedRows[]
  settings: Record<string, string | number>
}

export interface StorageClientHandle {
  client: ClickHouseClient
  embedded: boolean
  /** Inserts one block, the cheapest way the engine at hand offers. */
  insertRows: (block: RowBlock) => Promise<void>
  release(): Promise<void>
}

/**
 * `INSERT INTO table (columns)` for a block. Table and column names are the storage's own
 * (tables.ts, row-mappers.ts), never input.
 */
const insertInto = (block: RowBlock): string => `INSERT INTO ${block.table} (${block.columns.join(', ')})`

const insertThroughClient =
  (client: ClickHouseClient) =>
  async (block: RowBlock): Promise<void> => {
    const { format, parts } = encodedParts(block.rows)
    // The rows are already encoded: sent as the body of the INSERT, as the client's insert would send them.
    const result = await client.exec({
      query: `${insertInto(block)} FORMAT ${format}`,
      values: Readable.from(parts),
      clickhouse_settings: block.settings,
    })
    result.stream.destroy()
  }

/** A string as a ClickHouse SQL literal. */
const sqlString = (value: string): string => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`

function settingsClause(settings: RowBlock['settings']): string {
  const entries = Object.entries(settings)
  if (entries.length === 0) return ''
  const assignments = entries.map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ArgusError('ARGUS_ERR_INTERNAL', `not a setting name: ${JSON.stringify(name)}`)
    return `${name} = ${typeof value === 'number' ? String(value) : sqlString(value)}`
  })
  return ` SETTINGS ${assignments.join(', ')}`
}

/**
 * Inserts into embedded ClickHouse. JSON rows go to chdb's own insert as one buffer, parsed on its
 * threads (the client's insert would first join them into one SQL string on Node's main thread).
 * chdb passes a payload inline with the query, where binary rows do not survive, so RowBinary rows
 * are written to a file the engine reads with FROM INFILE, removed once the insert is done.
 */
function embeddedInsert(
  client: ClickHouseClient,
  connection: ReturnType<typeof createChdbConnection>,
  blockDir: string,
): (block: RowBlock) => Promise<void> {
  let blocksWritten = 0
  return async (block) => {
    const { format, parts } = encodedParts(block.rows)
    if (format === 'JSONCompactEachRow') {
      await connection.chdb.rawInsert({
        table: block.table,
        columns: block.columns,
        format,
        values: joinedParts(parts),
        settings: block.settings,
      })
      return
    }
    // Written part by part: joining them first would copy the block once more.
    const path = join(blockDir, `${process.pid}-${++blocksWritten}.rowbinary`)
    await writeFile(path, parts)
    try {
      await client.command({
        query: `${insertInto(block)} FROM INFILE ${sqlString(path)}${settingsClause(block.settings)} FORMAT RowBinary`,
      })
    } finally {
      await rm(path, { force: true })
    }
  }
}

export function openClickHouse(target: ClickHouseTarget): StorageClientHandle {
  if (target.url) {
    const client = createClient({
      url: target.url,
      username: target.username ?? 'default',
      password: target.password ?? '',
      request_timeout: 60_000,
      compression: { request: true, response: true },
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    })
    return { client, embedded: false, insertRows: insertThroughClient(client), release: () => client.close() }
  }
  const path = resolve(target.dataDir, 'clickhouse')
  if (embedded && embedded.path !== path) {
    throw new ArgusError(
      'ARGUS_ERR_STORAGE',
      `embedded ClickHouse is already open at ${embedded.path}; one process can use one data directory (asked for ${path})`,
    )
  }
  if (!embedded) {
    try {
      mkdirSync(path, { recursive: true })
      // Blocks a process left when it died mid-insert were never acknowledged: a durable bus delivers
      // their rows again, so the files only take space.
      const blockDir = resolve(target.dataDir, 'insert-blocks')
      rmSync(blockDir, { recursive: true, force: true })
      mkdirSync(blockDir, { recursive: true })
      // chdb types its connection against its own copy of @clickhouse/client-common; the shapes are the same.
      const connection = createChdbConnection({ path })
      const client = createClient({ connection: connection as unknown as ChdbClientConnection })
      embedded = {
        path,
        client,
        insertRows: embeddedInsert(client, connection, blockDir),
        users: 0,
      }
    } catch (error) {
      throw new ArgusError(
        'ARGUS_ERR_STORAGE_UNAVAILABLE',
        `cannot open embedded ClickHouse at ${path}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      )
    }
  }
  embedded.users++
  const shared = embedded
  let released = false
  return {
    client: shared.client,
    embedded: true,
    insertRows: shared.insertRows,
    async release() {
      if (released) return
      released = true
      shared.users--
      if (shared.users === 0 && embedded === shared) {
        embedded = undefined
        await shared.client.close()
      }
    },
  }
}

/** Maps driver errors to ArgusErrors: connection trouble is retriable, a refused query is not. */
export function storageError(error: unknown, what: string): ArgusError {
  const message = errorMessage(error)
  const code = (error as { code?: unknown }).code
  const unreachable =
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)
  const timeout = /timeout|timed out/i.test(message)
  return new ArgusError(
    unreachable ? 'ARGUS_ERR_STORAGE_UNAVAILABLE' : 'ARGUS_ERR_STORAGE',
    `${what}: ${message}`,
    {
      cause: error,
      retriable:
        unreachable || timeout || /TOO_MANY_PARTS|MEMORY_LIMIT_EXCEEDED|TABLE_IS_READ_ONLY/.test(message),
    },
  )
}
