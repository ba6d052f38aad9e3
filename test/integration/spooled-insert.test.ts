import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type StorageClientHandle } from '../../storage/clickhouse-client.js'
import { createSpooledInsert, spooledInsertSql, spoolParent } from '../../storage/spooled-insert.js'

// Real embedded ClickHouse (chdb) on disk; one data directory for this file's process.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-spool-'))
const parentDir = mkdtempSync(join(tmpdir(), 'argus-spool-parent-'))
let handle: StorageClientHandle

beforeAll(async () => {
  handle = openClickHouse({ dataDir })
  const command = (query: string) => handle.client.command({ query })
  await command('CREATE DATABASE IF NOT EXISTS spool')
  await command(`CREATE TABLE spool.lines (id UInt32, level LowCardinality(String), message String,
    attributes Map(LowCardinality(String), String)) ENGINE = MergeTree ORDER BY id
    SETTINGS non_replicated_deduplication_window = 100`)
  // As the writer's intake: a Null table whose view fills the table of record.
  await command(`CREATE TABLE spool.intake (id UInt32, message String) ENGINE = Null`)
  await command(`CREATE TABLE spool.copied (id UInt32, message String) ENGINE = MergeTree ORDER BY id
    SETTINGS non_replicated_deduplication_window = 100`)
  await command(
    `CREATE MATERIALIZED VIEW spool.copy_mv TO spool.copied AS SELECT id, message FROM spool.intake`,
  )
})

afterAll(async () => {
  await handle?.release()
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 })
  rmSync(parentDir, { recursive: true, force: true })
})

async function rows<T>(query: string): Promise<T[]> {
  return (await handle.client.query({ query, format: 'JSONEachRow' })).json<T>()
}

const dedup = (token: string) => ({
  insert_deduplicate: 1,
  insert_deduplication_token: token,
  deduplicate_blocks_in_dependent_materialized_views: 1,
})

describe('spooled insert (embedded ClickHouse through file())', () => {
  it('stores every value exactly as given, quotes, backslashes, newlines and non-ASCII included', async () => {
    const messages = [
      `it's "quoted"`,
      'back\\slash \\n not a newline',
      'two\nlines\tand a tab',
      'ünïcödé ✓ 日本',
      '',
      '[1, 2] {"json": true}',
    ]
    await handle.insertRows({
      table: 'spool.lines',
      columns: ['id', 'level', 'message', 'attributes'],
      rows: messages.map((message, id) => [
        id,
        'info',
        message,
        id === 0 ? { 'app.kubernetes.io/name': "o'k" } : {},
      ]),
      settings: dedup('values'),
    })
    const stored = await rows<{ id: number; message: string; attributes: Record<string, string> }>(
      'SELECT id, message, attributes FROM spool.lines ORDER BY id',
    )
    expect(stored.map((row) => row.message)).toEqual(messages)
    expect(stored[0]?.attributes).toEqual({ 'app.kubernetes.io/name': "o'k" })
  })

  it('inserts a block once when it is inserted again with the same token, through a view too', async () => {
    const block = {
      table: 'spool.intake',
      columns: ['id', 'message'],
      rows: Array.from({ length: 500 }, (_, i) => [1000 + i, `line ${i}`]),
    }
    await handle.insertRows({ ...block, settings: dedup('retry-1') })
    await handle.insertRows({ ...block, settings: dedup('retry-1') })
    await handle.insertRows({ ...block, settings: dedup('retry-2') })
    const [count] = await rows<{ n: string | number }>('SELECT count() AS n FROM spool.copied')
    // Two distinct tokens, two copies; the repeat of retry-1 added nothing.
    expect(Number(count?.n)).toBe(1000)
  })

  it('fails a block that does not parse with the engine error, stores none of it, and leaves no file', async () => {
    const spool = createSpooledInsert(handle.client, parentDir)
    try {
      await expect(
        spool.insert({
          table: 'spool.lines',
          columns: ['id', 'level', 'message', 'attributes'],
          rows: [
            [5000, 'info', 'fine', {}],
            ['not a number', 'info', 'broken', {}],
          ],
          settings: {},
        }),
      ).rejects.toThrow(/parse|Cannot|number/i)
      const [count] = await rows<{ n: string | number }>(
        'SELECT count() AS n FROM spool.lines WHERE id = 5000',
      )
      expect(Number(count?.n)).toBe(0)
      const [directory] = readdirSync(parentDir)
      expect(directory).toMatch(/^argus-insert-/)
      expect(readdirSync(join(parentDir, directory as string))).toEqual([])
    } finally {
      spool.close()
    }
    expect(readdirSync(parentDir)).toEqual([])
  })

  it('removes the spool directories processes that were killed left behind, and no one else', () => {
    const parent = mkdtempSync(join(tmpdir(), 'argus-spool-abandoned-'))
    try {
      // A process that has ended: its pid is free (and not reused this soon).
      const ended = spawnSync(process.execPath, ['-e', '0']).pid
      mkdirSync(join(parent, `argus-insert-${ended}-abc`))
      writeFileSync(join(parent, `argus-insert-${ended}-abc`, '7.json'), '[1]')
      mkdirSync(join(parent, `argus-insert-${process.pid}-live`))
      mkdirSync(join(parent, 'something-else'))
      const spool = createSpooledInsert(handle.client, parent)
      const left = readdirSync(parent).sort()
      expect(left).toContain(`argus-insert-${process.pid}-live`)
      expect(left).toContain('something-else')
      expect(left).not.toContain(`argus-insert-${ended}-abc`)
      spool.close()
    } finally {
      rmSync(parent, { recursive: true, force: true })
    }
  })

  it('spools in memory when /dev/shm has room, in the temporary directory when not', () => {
    expect(spoolParent(parentDir, 0)).toBe(parentDir)
    expect(spoolParent(parentDir, Number.MAX_SAFE_INTEGER)).toBe(tmpdir())
    expect(spoolParent(join(parentDir, 'missing'), 0)).toBe(tmpdir())
  })

  it('refuses identifiers that are not plain names and quotes setting values', () => {
    expect(() =>
      spooledInsertSql({ table: 'spool.lines; DROP TABLE x', columns: ['id'], settings: {} }, '/tmp/f'),
    ).toThrow(/not an identifier/)
    expect(() =>
      spooledInsertSql({ table: 'spool.lines', columns: ['id) --'], settings: {} }, '/tmp/f'),
    ).toThrow(/not an identifier/)
    const sql = spooledInsertSql(
      { table: 'spool.lines', columns: ['id'], settings: { insert_deduplication_token: `a'b\\` } },
      `/tmp/it's`,
    )
    expect(sql).toContain(`insert_deduplication_token = 'a\\'b\\\\'`)
    expect(sql).toContain(`file('/tmp/it\\'s', JSONCompactEachRow)`)
  })
})
