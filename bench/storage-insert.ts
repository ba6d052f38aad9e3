/**
 * Embedded ClickHouse insert cost per row, by insert path, for log records or metric samples
 * (rows built first, then serialised and inserted in blocks): wide rows with every column, into the
 * table that held them whole (`logs`, `metric_samples`; the layout before migrations 13 and 14),
 * through the client (one SQL string) and through chdb's raw insert, as the service; then the same
 * records as the writer inserts them, narrow through the intake table and its views (each log stream or metric series once),
 * into what stores them now (`log_lines`, `metric_points`, each joined to its stream or series),
 * with the writer's insert settings (log lines leave their text index to merges).
 * Prints rows/s and process CPU per row (all threads: chdb parses and merges on its own threads;
 * background merges make the CPU figure noisy; `--merges stop` leaves them out, to compare the
 * inserts alone).
 *
 *   npx tsx bench/storage-insert.ts [--rows 200000] [--batch 20000] [--signal logs|metrics]
 *     [--log-text-index ngram|none] [--merges run|stop]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { quietLogger } from '../test/helpers/quiet-logger.js'
import { openClickHouse } from '../storage/clickhouse-client.js'
import { encodeRows } from '../storage/encoded-rows.js'
import { encodeRowBinary } from '../storage/row-binary.js'
import { migrate } from '../storage/migrator.js'
import { applyTableSettings } from '../storage/table-settings.js'
import { logInsertSettings } from '../storage/log-text-index.js'
import { DIMENSION_ID_AT, TOPIC_TABLES } from '../storage/row-mappers.js'
import { DEFAULT_CONFIG, TOPICS, type LogRecord, type MetricSample } from '../core/index.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '20000' },
    signal: { type: 'string', default: 'logs' },
    'log-text-index': { type: 'string', default: 'ngram' },
    merges: { type: 'string', default: 'run' },
  },
})
const rows = Number(values.rows)
const batch = Number(values.batch)
const dir = mkdtempSync(join(tmpdir(), 'argus-insert-bench-'))
const handle = openClickHouse({ dataDir: dir })
const client = handle.client
await migrate(client, 'argus', quietLogger())
// The tables as the service sets them up at start (TTLs, text index, merge tuning).
await applyTableSettings(
  client,
  'argus',
  {
    retention: {
      signals: DEFAULT_CONFIG.clickhouse.signalRetentionDays,
      findings: DEFAULT_CONFIG.clickhouse.findingRetentionDays,
    },
    logTextIndex: values['log-text-index'] === 'none' ? 'none' : 'ngram',
  },
  quietLogger(),
)

const services = ['cart', 'checkout', 'frontend', 'catalog', 'payment', 'shipping']
const signal = values.signal === 'metrics' ? TOPICS.metrics : TOPICS.logs
const mapper = TOPIC_TABLES[signal]!

/** Where record `n` comes from: one of six services' five pods. */
function envelopeOf(n: number, ts: number) {
  const service = services[n % services.length] as string
  return {
    service,
    envelope: {
      ts,
      cluster: 'default',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: service },
      pod: `${service}-6d4cf56db6-${(n % 5).toString().padStart(5, 'q')}`,
    },
  }
}

function logRecord(n: number, ts: number): LogRecord {
  const { service, envelope } = envelopeOf(n, ts)
  return {
    ...envelope,
    container: service,
    node: `node-${n % 6}`,
    attributes: { app: service },
    level: 'info',
    stream: 'stdout',
    source: 'fluentd',
    templateId: 'abcdef0123456789',
    message: `INFO [req ${n.toString(16)}] ${service} handled GET /api/${service}/${n % 977} in ${n % 250}ms status=200`,
  }
}

/** A remote_write-like sample: 1,000 series of a request counter across pods. */
function metricSample(n: number, ts: number): MetricSample {
  return {
    ...envelopeOf(n, ts).envelope,
    name: 'http_requests_total',
    type: 'counter',
    value: n,
    labels: { code: String(200 + (n % 3)), method: 'GET', route: `/api/${n % 1000}` },
  }
}

function batchRows(b: number): unknown[][] {
  const base = Date.now()
  return Array.from({ length: batch }, (_, i) => {
    const n = b * batch + i
    const record = signal === TOPICS.metrics ? metricSample(n, base + n) : logRecord(n, base + n)
    return mapper.toRow({ value: record, offset: n } as never, ['kafka:x', n % 4, n + 1])
  })
}

async function measure(name: string, insert: (rows: unknown[][], b: number) => Promise<void>): Promise<void> {
  const batches = Math.ceil(rows / batch)
  const prepared = Array.from({ length: batches }, (_, b) => batchRows(b))
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let b = 0; b < batches; b++) await insert(prepared[b] as unknown[][], b)
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const cpuUs = (used.user + used.system) / (batches * batch)
  console.log(
    `${name.padEnd(52)} ${((batches * batch) / seconds).toFixed(0).padStart(8)} rows/s  ${cpuUs.toFixed(1).padStart(6)} us CPU/row`,
  )
}

const settings = (token: string) => ({
  insert_deduplicate: 1 as const,
  insert_deduplication_token: token,
  deduplicate_blocks_in_dependent_materialized_views: 1 as const,
})
const table = `argus.${mapper.table}`
const columns = mapper.columns as [string, ...string[]]
let run = 0
if (values.merges === 'stop') await client.command({ query: 'SYSTEM STOP MERGES' })
await measure('wide rows, client.insert', (values) =>
  client
    .insert({
      table,
      values,
      columns,
      format: 'JSONCompactEachRow',
      clickhouse_settings: settings(`a${run++}`),
    })
    .then(() => undefined),
)
await measure('wide rows, chdb raw insert', (rows) =>
  handle.insertRows({ table, columns, rows: [encodeRows(rows)], settings: settings(`b${run++}`) }),
)
// What the writer does: narrow rows through the intake table, each stream or series once, the
// view filling the same table. Rows are built before the clock starts, as for the wide inserts.
const narrow = mapper.narrow
// The writer's own settings for the table (log lines leave their text index to merges).
const writerSettings =
  signal === TOPICS.logs
    ? await logInsertSettings(client, values['log-text-index'] === 'none' ? 'none' : 'ngram')
    : {}
if (narrow) {
  const base = Date.now()
  const seen = new Set<string>()
  const blocks = Array.from({ length: Math.ceil(rows / batch) }, (_, b) => {
    const narrowRows: unknown[][] = []
    const dimensions: unknown[][] = []
    for (let i = 0; i < batch; i++) {
      const n = b * batch + i
      const value = signal === TOPICS.metrics ? metricSample(n, base + n) : logRecord(n, base + n)
      const message = { key: '', value, publishedAt: base, offset: n }
      const row = narrow.narrowRow(message, ['kafka:x', n % 4, n + 1])
      const id = row[DIMENSION_ID_AT] as string
      if (!seen.has(id)) {
        seen.add(id)
        dimensions.push(narrow.dimensionRow(message.value, id, Math.floor(base / 1000)))
      }
      narrowRows.push(row)
    }
    return { narrowRows, dimensions }
  })
  // The writer inserts narrow rows as RowBinary; the same rows as JSON show what that saves.
  for (const format of ['RowBinary', 'JSONCompactEachRow'] as const)
    await measure(`the writer's narrow insert (view), ${format}`, async (_rows, b) => {
      const { narrowRows, dimensions } = blocks[b] as (typeof blocks)[number]
      if (dimensions.length > 0)
        await handle.insertRows({
          table: `argus.${narrow.dimensionTable}`,
          columns: narrow.dimensionColumns,
          rows: [encodeRows(dimensions)],
          settings: {},
        })
      await handle.insertRows({
        table: `argus.${narrow.intakeTable}`,
        columns: narrow.intake.columns,
        rows: [format === 'RowBinary' ? encodeRowBinary(narrowRows, narrow.intake) : encodeRows(narrowRows)],
        settings: { ...settings(`c${run++}`), ...writerSettings },
      })
    })
}
await handle.release()
rmSync(dir, { recursive: true, force: true })
