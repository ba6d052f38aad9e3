import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEAD_LETTER_HEADERS,
  TOPICS,
  createMetricsRegistry,
  metricSeriesId,
  type LogRecord,
  type MetricBatch,
  type MetricSample,
  type NetworkFlow,
  type ObjectState,
  type ResourceChange,
} from '../../core/index.js'
import { createStorage, type LogTextIndex, type Storage } from '../../storage/index.js'
import { openClickHouse } from '../../storage/clickhouse-client.js'
import { DIMENSION_ID_AT, TOPIC_TABLES, type NarrowInsert } from '../../storage/row-mappers.js'
import { createLogRepository } from '../../storage/log-repository.js'
import { createMetricRepository } from '../../storage/metric-repository.js'
import { MIGRATIONS } from '../../storage/migrations.js'
import { migrate } from '../../storage/migrator.js'
import { countSignals } from '../../storage/signal-counts.js'
import { encodeRows } from '../../storage/encoded-rows.js'
import { encodeRowBinary } from '../../storage/row-binary.js'
import { createTopicWriter } from '../../storage/topic-writer.js'
import { quietLogger } from '../helpers/quiet-logger.js'

// Real embedded ClickHouse (chdb) on disk; no mocks. One data directory for this file's process.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-storage-'))
// Recent and minute-aligned: rows older than the retention TTL are expired by ClickHouse itself.
const base = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000

function newStorage(retention = { signals: 7, findings: 90 }, logTextIndex?: LogTextIndex): Storage {
  return createStorage({
    target: { dataDir },
    database: 'argus',
    retention,
    ...(logTextIndex && { logTextIndex }),
    maxInFlightInserts: 2,
    logger: quietLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
  })
}

function log(i: number, overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    ts: base + i * 1000,
    cluster: 'prod',
    namespace: i % 2 === 0 ? 'shop' : 'infra',
    pod: `cart-${i % 3}`,
    container: 'cart',
    workload: { kind: 'Deployment', name: 'cart' },
    message: `request ${i} served`,
    level: 'info',
    source: 'test',
    ...overrides,
  }
}

/** A sample of pod cart-1 of Deployment cart, valued `i`, `i` seconds after base. */
function cartSample(
  i: number,
  namespace: string,
  name: string,
  type: MetricSample['type'],
  labels: Record<string, string> = {},
): MetricSample {
  const workload = { kind: 'Deployment', name: 'cart' }
  return {
    ts: base + i * 1000,
    cluster: 'prod',
    namespace,
    pod: 'cart-1',
    workload,
    name,
    type,
    value: i,
    labels,
  }
}

let storage: Storage

/** Writes values as the bus would deliver them. */
function write(topic: string, values: readonly unknown[], dedupToken: string): Promise<void> {
  return storage.writer.write(
    topic,
    values.map((value, i) => ({ key: `k${i}`, value, publishedAt: Date.now() })),
    dedupToken,
  )
}

beforeAll(async () => {
  storage = newStorage()
  await storage.start()
})

afterAll(async () => {
  await storage.stop()
  // queryRows' connections keep the engine open in this process, which may still be merging.
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
})

describe('storage on embedded ClickHouse', () => {
  it('migrates idempotently: a second start applies nothing and keeps data', async () => {
    await write(TOPICS.logs, [log(9000, { namespace: 'migrate-check' })], 'migrate-check-1')
    await storage.stop()
    storage = newStorage()
    await storage.start()
    const found = await storage.logs.search({
      fromTs: 0,
      toTs: base + 1e8,
      namespace: 'migrate-check',
      limit: 10,
      order: 'asc',
    })
    expect(found).toHaveLength(1)
  })

  it('writes a batch once even when the same batch is inserted again (dedup token)', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => log(i, { namespace: 'dedup' }))
    await write(TOPICS.logs, batch, 'bus-1:logs:0:0-49')
    await write(TOPICS.logs, batch, 'bus-1:logs:0:0-49')
    expect(await storage.logs.count({ fromTs: 0, toTs: base + 1e8, namespace: 'dedup' })).toBe(50)
    // A different batch with identical content is new data and is kept.
    await write(TOPICS.logs, batch, 'bus-1:logs:0:50-99')
    expect(await storage.logs.count({ fromTs: 0, toTs: base + 1e8, namespace: 'dedup' })).toBe(100)
  })

  it("stores log lines narrow: each stream once, lines whole with their own and their stream's attributes", async () => {
    const line = (i: number, pod: string, labels: Record<string, string>, own: Record<string, string> = {}) =>
      log(i, {
        namespace: 'narrow',
        pod,
        node: 'node-7',
        service: 'cart',
        stream: 'stderr',
        attributes: { ...own, 'container.image': 'cart:1.2', ...labels },
      })
    const first = [
      line(1, 'cart-a', { 'label.app': 'cart' }, { trace_id: 't1' }),
      line(2, 'cart-a', { 'label.app': 'cart' }, { trace_id: 't2', user: 'u9' }),
      line(3, 'cart-b', { 'label.app': 'cart' }),
    ]
    await write(TOPICS.logs, first, 'narrow-1')
    // The same batch again (a retry) adds nothing; a relabelled pod is a stream of its own.
    await write(TOPICS.logs, first, 'narrow-1')
    await write(TOPICS.logs, [line(4, 'cart-a', { 'label.app': 'cart', 'label.tier': 'edge' })], 'narrow-2')

    const found = await storage.logs.search({
      fromTs: 0,
      toTs: base + 1e8,
      namespace: 'narrow',
      limit: 10,
      order: 'asc',
    })
    expect(found.map((l) => [l.pod, l.message])).toEqual([
      ['cart-a', 'request 1 served'],
      ['cart-a', 'request 2 served'],
      ['cart-b', 'request 3 served'],
      ['cart-a', 'request 4 served'],
    ])
    expect(found[0]).toMatchObject({
      cluster: 'prod',
      workloadKind: 'Deployment',
      workloadName: 'cart',
      container: 'cart',
      node: 'node-7',
      service: 'cart',
      stream: 'stderr',
      source: 'test',
      level: 'info',
    })
    expect(found[0]?.attributes).toEqual({
      trace_id: 't1',
      'container.image': 'cart:1.2',
      'label.app': 'cart',
    })
    expect(found[1]?.attributes).toEqual({
      trace_id: 't2',
      user: 'u9',
      'container.image': 'cart:1.2',
      'label.app': 'cart',
    })
    expect(found[3]?.attributes).toEqual({
      'container.image': 'cart:1.2',
      'label.app': 'cart',
      'label.tier': 'edge',
    })
    // Per-line attributes stay out of the stream: three streams, whatever the lines carried.
    const streams = await queryRows<{ n: string }>(
      "SELECT count(DISTINCT stream_id) AS n FROM argus.log_streams WHERE namespace = 'narrow'",
    )
    expect(Number(streams[0]?.n)).toBe(3)
  })

  it('stores any text as it came: quotes, commas, brackets, newlines, escapes and other scripts', async () => {
    const messages = [
      'a "quoted" word, then [brackets], {braces}',
      'two\nlines\tand a tab \\ backslash',
      '],["injected",1,{}],[',
      'ünïcödé 日本語 emoji 🚀 and \u0001 control',
      '',
      'a NUL \u0000 byte in the middle',
      'x'.repeat(127),
      'y'.repeat(128),
      'é'.repeat(5_000),
      `${'a long line '.repeat(10_000)}end`,
    ]
    await write(
      TOPICS.logs,
      messages.map((message, i) =>
        log(100 + i, { namespace: 'verbatim', message, attributes: { 'k,"]': 'v\n', 'ключ 🔑': '\u0000' } }),
      ),
      'verbatim-1',
    )
    const stored = await storage.logs.search({
      fromTs: base,
      toTs: base + 1e6,
      namespace: 'verbatim',
      limit: 10,
      order: 'asc',
    })
    expect(stored.map((r) => r.message)).toEqual(messages)
    expect(stored[0]?.attributes).toMatchObject({ 'k,"]': 'v\n', 'ключ 🔑': '\u0000' })
  })

  it('inserts intake rows as RowBinary in the types the intake tables declare, leaving no block files', async () => {
    for (const topic of [TOPICS.logs, TOPICS.metrics]) {
      const narrow = TOPIC_TABLES[topic]?.narrow as NarrowInsert
      const described = await queryRows<{ name: string; type: string }>(
        `SELECT name, type FROM system.columns WHERE database = 'argus' AND table = '${narrow.intakeTable}' ORDER BY position`,
      )
      // RowBinary reads a LowCardinality column, a map's keys included, as its inner type.
      const declared = described.map((c) => [c.name, c.type.replaceAll(/LowCardinality\(([^()]*)\)/g, '$1')])
      const layout = narrow.intake.columns.map((name, i) => [name, narrow.intake.types[i]])
      expect(layout).toEqual(declared)
    }
    // Values at the edges of Float64 come back exactly.
    const values = [1e-300, Number.MAX_VALUE, -0.5, 0.1 + 0.2, 2 ** 53 + 2]
    await write(
      TOPICS.metrics,
      values.map((value, i) => ({ ...cartSample(i, 'float-edges', 'edge_gauge', 'gauge'), value })),
      'float-edges-1',
    )
    const stored = await queryRows<{ value: number }>(
      "SELECT p.value AS value FROM argus.metric_points AS p WHERE p.series_id IN (SELECT series_id FROM argus.metric_series WHERE namespace = 'float-edges') ORDER BY p.ts",
    )
    expect(stored.map((r) => Number(r.value))).toEqual(values)
    // A block of several batches reaches the engine part after part, whole and in order.
    const intake = (TOPIC_TABLES[TOPICS.metrics]?.narrow as NarrowInsert).intake
    const point = (i: number) => ['', 0, 0, 'block-of-parts', 7, base + i, i]
    const handle = openClickHouse({ dataDir })
    await handle.insertRows({
      table: 'argus.metric_intake',
      columns: intake.columns,
      rows: [encodeRowBinary([point(0), point(1)], intake), encodeRowBinary([point(2)], intake)],
      settings: {},
    })
    await handle.release()
    const parts = await queryRows<{ value: number }>(
      "SELECT value FROM argus.metric_points WHERE series_id = 'block-of-parts' ORDER BY ts",
    )
    expect(parts.map((r) => Number(r.value))).toEqual([0, 1, 2])
    expect(readdirSync(join(dataDir, 'insert-blocks'))).toEqual([])
  })

  it('searches by time range, entity, level and literal text', async () => {
    const records = [
      log(1, { namespace: 'search', pod: 'api-1', message: 'GET /cart 200 in 5ms' }),
      log(2, {
        namespace: 'search',
        pod: 'api-2',
        message: 'Upstream TIMEOUT calling payment',
        level: 'error',
      }),
      log(3, { namespace: 'search', pod: 'api-1', message: 'disk 100% full_now', level: 'warn' }),
      log(4, { namespace: 'other', pod: 'api-1', message: 'timeout elsewhere', level: 'error' }),
    ]
    await write(TOPICS.logs, records, 'search-1')
    const range = { fromTs: base, toTs: base + 10_000 }
    const byText = await storage.logs.search({
      ...range,
      namespace: 'search',
      text: 'timeout',
      limit: 10,
      order: 'asc',
    })
    expect(byText.map((r) => r.pod)).toEqual(['api-2'])
    expect(byText[0]).toMatchObject({
      ts: base + 2000,
      level: 'error',
      workloadName: 'cart',
      namespace: 'search',
    })
    // `%` and `_` are literal characters, not wildcards.
    expect(
      await storage.logs.search({
        ...range,
        namespace: 'search',
        text: '100% full_',
        limit: 10,
        order: 'asc',
      }),
    ).toHaveLength(1)
    expect(
      await storage.logs.search({ ...range, namespace: 'search', text: '1_0%', limit: 10, order: 'asc' }),
    ).toHaveLength(0)
    const errorsAndWarnings = await storage.logs.search({
      ...range,
      levels: ['error', 'warn'],
      pod: 'api-1',
      limit: 10,
      order: 'desc',
    })
    expect(errorsAndWarnings.map((r) => r.message)).toEqual(['timeout elsewhere', 'disk 100% full_now'])
    const firstTwoSeconds = await storage.logs.search({
      fromTs: base + 1000,
      toTs: base + 3000,
      namespace: 'search',
      limit: 10,
      order: 'asc',
    })
    expect(firstTwoSeconds).toHaveLength(2)
    // Values that look like SQL stay data.
    expect(
      await storage.logs.search({ ...range, namespace: "search' OR 1=1 --", limit: 10, order: 'asc' }),
    ).toEqual([])
  })

  it('skips rows a durable bus redelivers with different batch boundaries (exactly once across crashes)', async () => {
    const messages = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({
        key: 'k',
        value: log(from + i, { namespace: 'exactly-once', message: `offset ${from + i}` }),
        publishedAt: base,
        partition: 3,
        offset: from + i,
      }))
    const durable = { source: 'kafka:cluster-a', partition: 3, generation: 1 }
    await storage.writer.write(TOPICS.logs, messages(0, 99), 'kafka-a:3:0-99', durable)
    // A writer crashed after that insert and before its commit; the redelivery starts at 0 but runs further.
    await storage.writer.write(TOPICS.logs, messages(0, 149), 'kafka-a:3:0-149', durable)
    // An engine killed mid-insert can commit rows without the view's mark: rows above the mark count too.
    await queryRows(
      "ALTER TABLE argus.bus_offsets DELETE WHERE bus_source = 'kafka:cluster-a' SETTINGS mutations_sync = 1",
    )
    const marks = await queryRows<{ n: number | string }>(
      "SELECT count() AS n FROM argus.bus_offsets WHERE bus_source = 'kafka:cluster-a'",
    )
    expect(Number(marks[0]?.n)).toBe(0)
    await storage.writer.write(TOPICS.logs, messages(100, 149), 'kafka-a:3:100-149', {
      ...durable,
      generation: 2,
    })
    const query = { fromTs: 0, toTs: base + 1e9, namespace: 'exactly-once' }
    expect(await storage.logs.count(query)).toBe(150)
    const offsets = await storage.logs.search({ ...query, limit: 1000, order: 'asc' })
    expect(new Set(offsets.map((r) => r.message)).size).toBe(150)
    // Another offset space (another cluster) is not compared with this one.
    await storage.writer.write(TOPICS.logs, messages(0, 9), 'kafka-b:3:0-9', {
      source: 'kafka:cluster-b',
      partition: 3,
      generation: 1,
    })
    expect(await storage.logs.count(query)).toBe(160)
    // Nor is another partition.
    await storage.writer.write(TOPICS.logs, messages(0, 9), 'kafka-a:4:0-9', {
      source: 'kafka:cluster-a',
      partition: 4,
      generation: 1,
    })
    expect(await storage.logs.count(query)).toBe(170)
  })

  it('stores samples narrow: each series once, every sample whole with its name, labels and workload', async () => {
    const sample = (i: number, route: string): MetricSample => ({
      ts: base + i * 1000,
      cluster: 'prod',
      namespace: 'series',
      pod: 'cart-7d9f8b6c5d-x2x7q',
      container: 'cart',
      workload: { kind: 'Deployment', name: 'cart' },
      name: 'http_requests_total',
      type: 'counter',
      value: i,
      labels: { route, code: '200' },
    })
    const batch = [sample(1, '/a'), sample(2, '/b'), sample(3, '/a'), sample(4, '/b')]
    await write(TOPICS.metrics, batch, 'series-1')
    await write(TOPICS.metrics, batch, 'series-1')
    const stored = await storage.metricHistory.workloadSamples({
      fromTs: 0,
      toTs: base + 1e8,
      cluster: 'prod',
      namespace: 'series',
      workloadKind: 'Deployment',
      workloadName: 'cart',
      names: ['http_requests_total'],
      limit: 100,
    })
    expect(stored.map((s) => [s.value, s.labels.route])).toEqual([
      [1, '/a'],
      [2, '/b'],
      [3, '/a'],
      [4, '/b'],
    ])
    expect(stored[0]).toMatchObject({ pod: 'cart-7d9f8b6c5d-x2x7q', container: 'cart', type: 'counter' })
    const series = await queryRows<{ n: string }>(
      "SELECT count(DISTINCT series_id) AS n FROM argus.metric_series WHERE namespace = 'series'",
    )
    expect(Number(series[0]?.n)).toBe(2)
  })

  it('stores column batches as the samples they hold, their redeliveries once, apart from the sample topic', async () => {
    const namespace = 'batches'
    const [memory, requests] = (
      [
        ['container_memory_working_set_bytes', 'gauge', {}],
        ['http_requests_total', 'counter', { code: '500' }],
      ] as const
    ).map(([name, type, labels]) => {
      const one = cartSample(0, namespace, name, type, labels)
      const { ts: _ts, value: _value, ...series } = one
      return { ...series, seriesId: metricSeriesId(one) }
    }) as [MetricBatch['series'][number], MetricBatch['series'][number]]
    // Offset n holds points 2n and 2n+1 of each series: four points a batch.
    const batch = (n: number): MetricBatch => ({
      series: [memory, requests],
      seriesIndex: [0, 1, 0, 1],
      ts: [2 * n, 2 * n, 2 * n + 1, 2 * n + 1].map((i) => base + i * 1000),
      value: [2 * n, 10 * n, 2 * n + 1, 10 * n + 5],
    })
    const messages = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({
        key: 'k',
        value: batch(from + i),
        publishedAt: base,
        partition: 2,
        offset: from + i,
      }))
    const durable = { source: 'kafka:batches', partition: 2, generation: 1 }
    await storage.writer.write(TOPICS.metricBatches, messages(0, 4), 'batches:2:0-4', durable)
    // A redelivery from 0 that runs further (the writer crashed before its commit).
    await storage.writer.write(TOPICS.metricBatches, messages(0, 9), 'batches:2:0-9', durable)
    // The per-sample topic's partition 2, same source and offsets: another offset space.
    await storage.writer.write(
      TOPICS.metrics,
      [0, 1, 2].map((i) => ({
        key: 'k',
        value: cartSample(100 + i, namespace, 'container_memory_working_set_bytes', 'gauge'),
        publishedAt: base,
        partition: 2,
        offset: i,
      })),
      'samples:2:0-2',
      durable,
    )
    const stored = await storage.metricHistory.workloadSamples({
      fromTs: 0,
      toTs: base + 1e8,
      cluster: 'prod',
      namespace,
      workloadKind: 'Deployment',
      workloadName: 'cart',
      names: ['container_memory_working_set_bytes', 'http_requests_total'],
      limit: 1000,
    })
    const memoryPoints = stored.filter((s) => s.name === 'container_memory_working_set_bytes')
    expect(memoryPoints.map((s) => s.value)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => i),
      100,
      101,
      102,
    ])
    const requestPoints = stored.filter((s) => s.name === 'http_requests_total')
    expect(requestPoints).toHaveLength(20)
    expect(requestPoints[3]).toMatchObject({
      ts: base + 3000,
      value: 15,
      type: 'counter',
      labels: { code: '500' },
      pod: 'cart-1',
    })
    // The sample topic's series is the batch's memory series: one id, one series row each.
    const series = await queryRows<{ n: string }>(
      `SELECT count(DISTINCT series_id) AS n FROM argus.metric_series WHERE namespace = '${namespace}'`,
    )
    expect(Number(series[0]?.n)).toBe(2)
    // A batch whose columns do not line up is refused whole, as input no retry can mend.
    const malformed = { ...batch(50), ts: [base] }
    await expect(
      storage.writer.write(
        TOPICS.metricBatches,
        [
          { key: 'k', value: batch(40), publishedAt: base },
          { key: 'k', value: malformed, publishedAt: base },
        ],
        'malformed',
      ),
    ).rejects.toMatchObject({ code: 'ARGUS_ERR_BAD_INPUT', retriable: false })
    // So is one naming a series without an id, or a new series without a name.
    for (const one of [
      { ...memory, seriesId: undefined },
      { ...memory, seriesId: '00000000000000ff', name: undefined },
    ])
      await expect(
        storage.writer.write(
          TOPICS.metricBatches,
          [{ key: 'k', value: { ...batch(41), series: [one, requests] }, publishedAt: base }],
          'malformed-series',
        ),
      ).rejects.toMatchObject({ code: 'ARGUS_ERR_BAD_INPUT' })
    const after = await queryRows<{ n: string }>(
      `SELECT count() AS n FROM argus.metric_points WHERE series_id = '${memory.seriesId}'`,
    )
    expect(Number(after[0]?.n)).toBe(23)
    // The rollup holds every stored point once, batch and sample alike under their series' key,
    // which the series rows name.
    const rolled = await queryRows<{ name: string; samples: string | number; top: number }>(
      `SELECT name, sum(samples) AS samples, max(max) AS top FROM argus.metrics_1m_all
        WHERE namespace = '${namespace}' GROUP BY name ORDER BY name`,
    )
    expect(rolled.map((r) => [r.name, Number(r.samples), r.top])).toEqual([
      ['container_memory_working_set_bytes', 23, 102],
      ['http_requests_total', 20, 95],
    ])
    const keys = await queryRows<{ n: string | number }>(
      `SELECT uniqExact(rollup_key) AS n FROM argus.metric_rollup_1m
        WHERE rollup_key IN (SELECT rollup_key FROM argus.metric_series WHERE namespace = '${namespace}')`,
    )
    expect(Number(keys[0]?.n)).toBe(2)
  })

  it('joins each point to one row of its series, however often the series row was written', async () => {
    const sample = (i: number) => cartSample(i, 'refreshed', 'container_memory_working_set_bytes', 'gauge')
    // No merge may fold the copies while they are made and read (one did, now and then, when the
    // tests before this one had left metric_series several parts to merge).
    await runStatement('SYSTEM STOP MERGES argus.metric_series')
    await write(TOPICS.metrics, [sample(1), sample(2)], 'refreshed-1')
    // The writer's hourly refresh, twice.
    for (const seenAt of [1, 2])
      await runStatement(
        `INSERT INTO argus.metric_series SELECT * REPLACE (last_seen + ${seenAt} AS last_seen) FROM argus.metric_series WHERE namespace = 'refreshed' LIMIT 1`,
      )
    const copies = await queryRows<{ n: string }>(
      "SELECT count() AS n FROM argus.metric_series WHERE namespace = 'refreshed'",
    )
    await runStatement('SYSTEM START MERGES argus.metric_series')
    expect(Number(copies[0]?.n)).toBe(3)
    const stored = await storage.metricHistory.workloadSamples({
      fromTs: 0,
      toTs: base + 1e8,
      cluster: 'prod',
      namespace: 'refreshed',
      workloadKind: 'Deployment',
      workloadName: 'cart',
      names: ['container_memory_working_set_bytes'],
      limit: 100,
    })
    expect(stored.map((s) => [s.value, s.pod])).toEqual([
      [1, 'cart-1'],
      [2, 'cart-1'],
    ])
  })

  it('upgrades to points: samples stored before stay readable and counted, offsets carry over', async () => {
    // A database at migration 12 (samples stored whole), written through a durable bus.
    const db = 'argus_upgrade'
    const { handle, delivered, durable, upgrade, writer } = await olderDatabase({
      db,
      version: 12,
      topic: TOPICS.metrics,
      record: (i) =>
        cartSample(i, 'upgrade', 'container_cpu_usage_seconds_total', 'counter', { cpu: 'total' }),
    })
    const legacy = await queryRows<{ n: string }>(`SELECT count() AS n FROM ${db}.metric_samples`)
    expect(Number(legacy[0]?.n)).toBe(10)

    expect(await upgrade()).toEqual(MIGRATIONS.filter((m) => m.version > 12).map((m) => m.version))
    // After the upgrade a new writer gets a redelivery of stored offsets and then new ones: the
    // stored ones are skipped (their mark carried over to the points table), the new ones stored.
    await writer().write(TOPICS.metrics, delivered(5, 14), 'up:0:5-14', durable)
    const points = await queryRows<{ n: string }>(`SELECT count() AS n FROM ${db}.metric_points`)
    expect(Number(points[0]?.n)).toBe(5)
    const stored = await createMetricRepository(handle.client, db).workloadSamples({
      fromTs: 0,
      toTs: base + 1e8,
      cluster: 'prod',
      namespace: 'upgrade',
      workloadKind: 'Deployment',
      workloadName: 'cart',
      names: ['container_cpu_usage_seconds_total'],
      limit: 100,
    })
    expect(stored.map((s) => s.value)).toEqual(Array.from({ length: 15 }, (_, i) => i))
    expect(stored[12]).toMatchObject({ pod: 'cart-1', type: 'counter', labels: { cpu: 'total' } })
    const counts = await countSignals(handle.client, db, { fromTs: 0, toTs: base + 1e8 })
    expect(counts.metrics).toBe(15)
    // The rollup keeps filling from the intake: 15 samples in the minutes they fall in, the ten
    // from before in metrics_1m, read together through metrics_1m_all.
    const rolled = await queryRows<{ n: string }>(
      `SELECT sum(samples) AS n FROM ${db}.metrics_1m_all WHERE pod = 'cart-1'`,
    )
    expect(Number(rolled[0]?.n)).toBe(15)
    await handle.release()
  })

  it('upgrades to log lines: records stored whole before stay found and counted, offsets carry over', async () => {
    // A database at migration 13 (log records stored whole in `logs`), written through a durable bus.
    const db = 'argus_upgrade_logs'
    const { handle, delivered, durable, upgrade, writer } = await olderDatabase({
      db,
      version: 13,
      topic: TOPICS.logs,
      record: (i) =>
        log(i, {
          namespace: 'upgrade',
          level: i % 2 === 0 ? 'error' : 'info',
          attributes: { 'label.app': 'cart', trace_id: `t${i}` },
        }),
    })
    const legacy = await queryRows<{ n: string }>(`SELECT count() AS n FROM ${db}.logs`)
    expect(Number(legacy[0]?.n)).toBe(10)

    expect(await upgrade()).toEqual(MIGRATIONS.filter((m) => m.version > 13).map((m) => m.version))
    // A redelivery of stored offsets and then new ones: the stored ones are skipped (their mark
    // carried over to log_lines), the new ones stored as lines.
    await writer().write(TOPICS.logs, delivered(5, 14), 'up:0:5-14', durable)
    const lines = await queryRows<{ n: string }>(`SELECT count() AS n FROM ${db}.log_lines`)
    expect(Number(lines[0]?.n)).toBe(5)
    const logs = createLogRepository(handle.client, db)
    const range = { fromTs: 0, toTs: base + 1e8 }
    const all = await logs.search({ ...range, namespace: 'upgrade', limit: 100, order: 'asc' })
    expect(all.map((l) => l.message)).toEqual(Array.from({ length: 15 }, (_, i) => `request ${i} served`))
    // Old and new alike carry their stream's envelope and both kinds of attributes.
    for (const i of [3, 12])
      expect(all[i]).toMatchObject({
        cluster: 'prod',
        namespace: 'upgrade',
        pod: `cart-${i % 3}`,
        workloadName: 'cart',
        attributes: { 'label.app': 'cart', trace_id: `t${i}` },
      })
    // Newest first across both tables, with the limit applied to the whole.
    const newest = await logs.search({ ...range, namespace: 'upgrade', limit: 7, order: 'desc' })
    expect(newest.map((l) => l.ts)).toEqual(Array.from({ length: 7 }, (_, i) => base + (14 - i) * 1000))
    const errors = { ...range, pod: 'cart-0', levels: ['error' as const] }
    expect((await logs.search({ ...errors, limit: 100, order: 'asc' })).map((l) => l.message)).toEqual([
      'request 0 served',
      'request 6 served',
      'request 12 served',
    ])
    expect(await logs.count(errors)).toBe(3)
    expect(await logs.count({ ...range, text: 'REQUEST 1' })).toBe(6)
    expect(await logs.count({ ...range, namespace: 'elsewhere' })).toBe(0)
    expect((await countSignals(handle.client, db, range)).logs).toBe(15)
    await handle.release()
  })

  it('rolls metrics and flows up per minute, and a repeated batch does not double the rollup', async () => {
    const samples: MetricSample[] = Array.from({ length: 120 }, (_, i) => ({
      ts: base + i * 1000,
      cluster: 'prod',
      namespace: 'rollup',
      pod: 'cart-0',
      name: 'container_cpu_usage_seconds_total',
      value: i,
      labels: {},
    }))
    await write(TOPICS.metrics, samples, 'metrics-1')
    await write(TOPICS.metrics, samples, 'metrics-1')
    const flow = (action: 'allow' | 'deny', flowCount: number): NetworkFlow => ({
      ts: base + 30_000,
      cluster: 'prod',
      startTs: base,
      endTs: base + 30_000,
      source: { namespace: 'shop', name: '-', aggregatedName: 'frontend-*', type: 'wep', labels: {} },
      destination: {
        namespace: 'shop',
        name: '-',
        aggregatedName: 'cart-*',
        type: 'wep',
        labels: {},
        port: 8080,
      },
      protocol: 'tcp',
      action,
      reporter: 'src',
      bytesIn: 100,
      bytesOut: 200,
      packetsIn: 1,
      packetsOut: 2,
      flowCount,
      policies: [],
    })
    await write(TOPICS.flows, [flow('allow', 5), flow('deny', 2)], 'flows-1')

    const rollups = await queryRows<{ minute: string; samples: string; max: number }>(
      "SELECT minute, sum(samples) AS samples, max(max) AS max FROM argus.metrics_1m_all WHERE namespace = 'rollup' GROUP BY minute ORDER BY minute",
    )
    expect(rollups.map((r) => Number(r.samples))).toEqual([60, 60])
    expect(rollups.map((r) => r.max)).toEqual([59, 119])
    const edges = await queryRows<{ flows: string | number; denied: string | number }>(
      "SELECT sum(flows) AS flows, sum(denied_flows) AS denied FROM argus.flows_1m WHERE dst_aggregated = 'cart-*'",
    )
    // 64-bit integers arrive as strings from a server and as numbers from chdb.
    expect([Number(edges[0]?.flows), Number(edges[0]?.denied)]).toEqual([7, 2])
  })

  it('keeps dead-lettered messages with the error that sent them there', async () => {
    await storage.writer.write(
      TOPICS.deadLetter,
      [
        {
          key: 'prod/shop/Deployment/cart',
          value: { ts: base, weird: true },
          publishedAt: base,
          headers: {
            [DEAD_LETTER_HEADERS.errorCode]: 'ARGUS_ERR_STORAGE',
            [DEAD_LETTER_HEADERS.errorMessage]: 'Cannot parse input',
            [DEAD_LETTER_HEADERS.originalTopic]: TOPICS.metrics,
            [DEAD_LETTER_HEADERS.originalPartition]: '2',
            [DEAD_LETTER_HEADERS.originalOffset]: '41',
            [DEAD_LETTER_HEADERS.group]: 'argus-writer',
            [DEAD_LETTER_HEADERS.attempts]: '1',
          },
        },
      ],
      'dlq-1',
    )
    const rows = await queryRows<Record<string, unknown>>(
      'SELECT topic, partition, offset, consumer_group, error_code, error_message, payload FROM argus.dead_letters',
    )
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      topic: TOPICS.metrics,
      consumer_group: 'argus-writer',
      error_code: 'ARGUS_ERR_STORAGE',
      error_message: 'Cannot parse input',
    })
    expect([Number(rows[0]?.partition), Number(rows[0]?.offset)]).toEqual([2, 41])
    expect(JSON.parse(rows[0]?.payload as string)).toEqual({ ts: base, weird: true })
  })

  it('stores rollouts with their image diff, and pod states with containers, owners and services', async () => {
    const rollout: ResourceChange = {
      ts: base,
      cluster: 'prod',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'cart' },
      changeKind: 'rollout',
      resource: { kind: 'Deployment', name: 'cart', namespace: 'shop', uid: 'd1' },
      revision: '4',
      images: [{ container: 'cart', from: 'cart:1', to: 'cart:2' }],
      diff: [{ path: 'data.level', from: 'info', to: 'debug' }],
    }
    const pod: ObjectState = {
      ts: base + 1000,
      cluster: 'prod',
      namespace: 'shop',
      pod: 'cart-6d8f7b9c4d-x7k2p',
      workload: { kind: 'Deployment', name: 'cart' },
      resource: { kind: 'Pod', name: 'cart-6d8f7b9c4d-x7k2p', namespace: 'shop', uid: 'p1' },
      phase: 'Running',
      deleted: false,
      conditions: [{ type: 'Ready', status: 'True' }],
      containers: [
        {
          name: 'cart',
          state: 'running',
          ready: true,
          restarts: 2,
          lastTerminationReason: 'OOMKilled',
          lastExitCode: 137,
          lastTerminatedTs: base,
        },
      ],
      owners: [
        { kind: 'ReplicaSet', name: 'cart-6d8f7b9c4d' },
        { kind: 'Deployment', name: 'cart' },
      ],
      services: ['cart'],
    }
    await write(TOPICS.resourceChanges, [rollout], 'nested-changes-1')
    await write(TOPICS.objectStates, [pod], 'nested-states-1')
    const changes = await queryRows<{ images: unknown; diff: unknown; revision: string }>(
      "SELECT images, diff, revision FROM argus.resource_changes WHERE resource_uid = 'd1'",
    )
    expect(changes).toEqual([
      {
        images: [{ container: 'cart', from: 'cart:1', to: 'cart:2' }],
        diff: [{ path: 'data.level', from: 'info', to: 'debug' }],
        revision: '4',
      },
    ])
    const states = await queryRows<Record<string, unknown>>(
      "SELECT phase, deleted, containers.last_termination_reason AS reasons, containers.restarts AS restarts, owners.kind AS owner_kinds, services FROM argus.object_states WHERE resource_uid = 'p1'",
    )
    expect(states).toEqual([
      {
        phase: 'Running',
        deleted: false,
        reasons: ['OOMKilled'],
        restarts: [2],
        owner_kinds: ['ReplicaSet', 'Deployment'],
        services: ['cart'],
      },
    ])
  })

  it('drops or adds the log text index as configured, and text search finds the same lines either way', async () => {
    await write(
      TOPICS.logs,
      Array.from({ length: 30 }, (_, i) =>
        log(i, {
          namespace: 'text-index',
          message: i % 3 === 0 ? `Quota-timeout calling payment ${i}` : `ok ${i}`,
        }),
      ),
      'text-index-1',
    )
    const search = { fromTs: 0, toTs: base + 1e8, text: 'quota-TIMEOUT calling' }
    const indexed = async (): Promise<boolean> => {
      const rows = await queryRows<{ n: string }>(
        "SELECT count() AS n FROM system.data_skipping_indices WHERE database = 'argus' AND table = 'log_lines' AND name = 'idx_message'",
      )
      return Number(rows[0]?.n) > 0
    }
    expect(await indexed()).toBe(true)
    expect(await storage.logs.count(search)).toBe(10)
    let expected = 10
    for (const [setting, present] of [
      ['none', false],
      ['ngram', true],
    ] as const) {
      await storage.stop()
      storage = newStorage(undefined, setting)
      await storage.start()
      expect(await indexed()).toBe(present)
      expect(await storage.logs.count(search)).toBe(expected)
      await write(
        TOPICS.logs,
        [log(40, { namespace: 'text-index', message: `quota-timeout calling ${setting}` })],
        `ti-${setting}`,
      )
      expected++
    }
    expect(await storage.logs.count(search)).toBe(12)
    // The index added back is built for the parts written without it, in the background.
    const building = async (): Promise<number> =>
      Number(
        (
          await queryRows<{ n: string }>(
            "SELECT count() AS n FROM system.mutations WHERE database = 'argus' AND table = 'log_lines' AND NOT is_done",
          )
        )[0]?.n,
      )
    const deadline = Date.now() + 15_000
    while ((await building()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(await building()).toBe(0)
    const built = await queryRows<{ n: string }>(
      "SELECT count() AS n FROM system.mutations WHERE database = 'argus' AND table = 'log_lines' AND command LIKE '%MATERIALIZE INDEX%'",
    )
    expect(Number(built[0]?.n)).toBe(1)
  })

  it('leaves the text index of new lines to merges: a new part has none, the merged part has it', async () => {
    await write(
      TOPICS.logs,
      Array.from({ length: 40 }, (_, i) =>
        log(i, {
          namespace: 'index-on-merge',
          message: i % 4 === 0 ? `Disk-pressure evicting ${i}` : `ok ${i}`,
        }),
      ),
      'index-on-merge-1',
    )
    const search = { fromTs: 0, toTs: base + 1e8, namespace: 'index-on-merge', text: 'disk-PRESSURE evict' }
    /** The parts holding this test's lines, and whether each has the text index's files. */
    const parts = async (): Promise<Array<{ name: string; indexed: boolean }>> =>
      (
        await queryRows<{ name: string; path: string }>(
          `SELECT name, path FROM system.parts
            WHERE database = 'argus' AND table = 'log_lines' AND active AND name IN (
              SELECT DISTINCT _part FROM argus.log_lines WHERE message LIKE 'Disk-pressure evicting %')`,
        )
      ).map((part) => ({
        name: part.name,
        indexed: readdirSync(part.path).some((file) => file.startsWith('skp_idx_idx_message.')),
      }))
    const inserted = await parts()
    expect(inserted.length).toBeGreaterThan(0)
    expect(inserted.some((part) => part.indexed)).toBe(false)
    expect(await storage.logs.count(search)).toBe(10)

    await queryRows('OPTIMIZE TABLE argus.log_lines FINAL')
    const merged = await parts()
    expect(merged.length).toBeGreaterThan(0)
    expect(merged.map((part) => part.name)).not.toEqual(inserted.map((part) => part.name))
    expect(merged.every((part) => part.indexed)).toBe(true)
    expect(await storage.logs.count(search)).toBe(10)
  })

  it('sets table TTL from the configured retention', async () => {
    await storage.stop()
    storage = newStorage({ signals: 3, findings: 30 })
    await storage.start()
    const tables = await queryRows<{ name: string; engine_full: string }>(
      "SELECT name, engine_full FROM system.tables WHERE database = 'argus' AND name IN ('logs', 'log_lines', 'incidents')",
    )
    const ttl = Object.fromEntries(tables.map((t) => [t.name, t.engine_full]))
    expect(ttl.logs).toContain('toIntervalDay(3)')
    expect(ttl.log_lines).toContain('toIntervalDay(3)')
    // Lines are merged in wider steps than ClickHouse's default (see merge-tuning.ts).
    expect(ttl.log_lines).toContain('merge_selector_base = 20')
    expect(ttl.logs).not.toContain('merge_selector_base')
    expect(ttl.incidents).toContain('toIntervalDay(30)')
  })
})

/**
 * A database at migration `version`, holding records 0-9 of `topic` as a writer of that version
 * inserted them from a durable bus: narrow rows with their bus positions, each stream or series
 * row once. `upgrade` migrates it to the current version; `writer` is a writer of this one.
 */
async function olderDatabase(options: {
  db: string
  version: number
  topic: string
  record: (i: number) => unknown
}) {
  const { db, topic } = options
  const handle = openClickHouse({ dataDir })
  const logger = quietLogger()
  await migrate(
    handle.client,
    db,
    logger,
    MIGRATIONS.filter((m) => m.version <= options.version),
  )
  const delivered = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, k) => ({
      key: 'k',
      value: options.record(from + k),
      publishedAt: Date.now(),
      offset: from + k,
    }))
  const durable = { source: `kafka:${db}`, partition: 0, generation: 1 }
  const narrow = TOPIC_TABLES[topic]?.narrow as NarrowInsert
  const stored = delivered(0, 9)
  const rows = stored.map((m) => narrow.narrowRow(m, [durable.source, 0, m.offset + 1]))
  const dimensions = new Map<string, unknown[]>()
  stored.forEach((m, i) => {
    const id = rows[i]?.[DIMENSION_ID_AT] as string
    if (!dimensions.has(id)) dimensions.set(id, narrow.dimensionRow(m.value, id, 1))
  })
  // Writers before migration 17 wrote no rollup keys.
  const written = (column: string) => column !== 'rollup_key' || options.version >= 17
  for (const [table, columns, block] of [
    [narrow.dimensionTable, narrow.dimensionColumns, [...dimensions.values()]],
    [narrow.intakeTable, narrow.intake.columns, rows],
  ] as const)
    await handle.insertRows({
      table: `${db}.${table}`,
      columns: columns.filter(written),
      rows: [encodeRows(block.map((row) => row.filter((_, c) => written(columns[c] as string))))],
      settings: {},
    })
  return {
    handle,
    delivered,
    durable,
    upgrade: () => migrate(handle.client, db, logger),
    writer: () =>
      createTopicWriter({
        client: handle.client,
        insertRows: handle.insertRows,
        database: db,
        logger,
        metrics: createMetricsRegistry({ defaultMetrics: false }),
        maxInFlight: 1,
      }),
  }
}

/** Reads through the storage's own search surface where possible; rollups need raw SQL (fixed text, no input). */
/** A statement that returns no rows (an INSERT ... SELECT), on the same engine. */
async function runStatement(sql: string): Promise<void> {
  const { createClient } = await import('@clickhouse/client')
  const { createChdbConnection } = await import('chdb/connection')
  const client = createClient({
    connection: createChdbConnection({ path: join(dataDir, 'clickhouse') }) as never,
  })
  await client.command({ query: sql })
}

async function queryRows<T>(sql: string): Promise<T[]> {
  const { createClient } = await import('@clickhouse/client')
  const { createChdbConnection } = await import('chdb/connection')
  // Same process, same path: chdb hands back the already-open engine.
  const client = createClient({
    connection: createChdbConnection({ path: join(dataDir, 'clickhouse') }) as never,
  })
  const result = await client.query({ query: sql, format: 'JSONEachRow' })
  return result.json<T>()
}
