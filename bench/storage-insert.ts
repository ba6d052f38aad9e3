/**
 * Embedded ClickHouse insert cost per row, by insert path: what the storage writer pays per log
 * record or metric sample before anything else in the pipeline (rows built, then serialised and
 * inserted in blocks).
 * Prints rows/s and process CPU per row (all threads: chdb parses and merges on its own threads;
 * background merges make the CPU figure noisy).
 *
 *   npx tsx bench/storage-insert.ts [--rows 200000] [--batch 20000] [--signal logs|metrics]
 * With `--signal metrics` it also inserts the same samples as narrow rows (series id, ts, value).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { quietLogger } from '../test/helpers/quiet-logger.js'
import { openClickHouse } from '../storage/clickhouse-client.js'
import { migrate } from '../storage/migrator.js'
import { TOPIC_TABLES } from '../storage/row-mappers.js'
import { TOPICS, type LogRecord, type MetricSample } from '../core/index.js'

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '20000' },
    signal: { type: 'string', default: 'logs' },
  },
})
const rows = Number(values.rows)
const batch = Number(values.batch)
const dir = mkdtempSync(join(tmpdir(), 'argus-insert-bench-'))
const handle = openClickHouse({ dataDir: dir })
const client = handle.client
await migrate(client, 'argus', quietLogger())

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
    `${name.padEnd(34)} ${((batches * batch) / seconds).toFixed(0).padStart(8)} rows/s  ${cpuUs.toFixed(1).padStart(6)} us CPU/row`,
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
await measure('client.insert (SQL string)', (values) =>
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
await measure("the writer's insertRows (chdb raw)", (rows) =>
  handle.insertRows({ table, columns, rows, settings: settings(`b${run++}`) }),
)
if (signal === TOPICS.metrics) {
  // What samples would cost in the shape TSDBs store them: labels once per series elsewhere, and
  // per sample only (series id, ts, value). The measurement behind the note on issue 6.
  await client.command({
    query: `CREATE TABLE argus.narrow_samples (series_id UInt64, ts DateTime64(3) CODEC(DoubleDelta, ZSTD),
      value Float64 CODEC(Gorilla, ZSTD)) ENGINE = MergeTree ORDER BY (series_id, ts)`,
  })
  const base = Date.now()
  await measure('narrow (series id, ts, value)', (_rows, b) =>
    handle.insertRows({
      table: 'argus.narrow_samples',
      columns: ['series_id', 'ts', 'value'],
      rows: Array.from({ length: batch }, (_, i) => {
        const n = b * batch + i
        return [n % 1000, base + n, n]
      }),
      settings: settings(`c${run++}`),
    }),
  )
}
await handle.release()
rmSync(dir, { recursive: true, force: true })
