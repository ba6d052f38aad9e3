import { TABLES, type TableName } from './tables.js'

export interface Migration {
  version: number
  name: string
  /** DDL statements; each must be idempotent (IF NOT EXISTS) so a crash mid-migration can rerun. */
  statements(db: string): string[]
}

/**
 * Settings shared by every table. The deduplication window makes a retried insert with the same
 * token a no-op on plain MergeTree (replicated tables have it by default).
 */
const SETTINGS = 'SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192'

/** Envelope columns, in the order of `envelopeProperties` in core. */
const ENVELOPE = `
  ts DateTime64(3) CODEC(Delta, ZSTD(1)),
  cluster LowCardinality(String),
  namespace LowCardinality(String),
  workload_kind LowCardinality(String),
  workload_name LowCardinality(String),
  pod String,
  container LowCardinality(String),
  node LowCardinality(String),
  service LowCardinality(String),
  attributes Map(LowCardinality(String), String)`

const DAILY = 'PARTITION BY toDate(ts)'

/** Bus position columns of tables the writer fills from a durable bus (see migration 5). */
const BUS_COLUMNS = `
  bus_source LowCardinality(String) DEFAULT '',
  bus_partition UInt16 DEFAULT 0,
  bus_offset UInt64 DEFAULT 0 CODEC(Delta, ZSTD(1)),
  INDEX idx_bus_offset bus_offset TYPE minmax GRANULARITY 1`

/** The tables migrations 5 and 6 gave bus offsets; frozen, as applied migrations must not change. */
const OFFSET_TRACKED_AT_V5: readonly TableName[] = [
  TABLES.logs,
  TABLES.metrics,
  TABLES.kubeEvents,
  TABLES.resourceChanges,
  TABLES.flows,
  TABLES.anomalies,
  TABLES.incidents,
  TABLES.rootCauses,
  TABLES.alerts,
  TABLES.actions,
  TABLES.deadLetters,
]

/** Keeps the bus offset mark in step with a table's inserts (part of the same insert). */
const busOffsetView = (db: string, table: TableName): string =>
  `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${table}_bus_offsets_mv TO ${db}.${TABLES.busOffsets} AS
          SELECT '${table}' AS table_name, bus_source, bus_partition, max(bus_offset) AS max_offset
          FROM ${db}.${table} WHERE bus_offset > 0 GROUP BY bus_source, bus_partition`

/**
 * Marks a table that takes over another's rows as stored through the other's bus offsets, so a
 * redelivery after the switch is checked against where the old table ended. (No aliases:
 * ClickHouse would read the WHERE's table_name as the new name.)
 */
const carryBusOffsets = (db: string, from: TableName, to: TableName): string =>
  `INSERT INTO ${db}.${TABLES.busOffsets} (table_name, bus_source, bus_partition, max_offset)
        SELECT '${to}', bus_source, bus_partition, max(max_offset)
        FROM ${db}.${TABLES.busOffsets} WHERE table_name = '${from}' GROUP BY bus_source, bus_partition`

/** What migrations 11 and 12 give log streams and metric series of the envelope; frozen with them. */
const DIMENSION_ENVELOPE = `cluster LowCardinality(String),
        namespace LowCardinality(String),
        workload_kind LowCardinality(String),
        workload_name LowCardinality(String),
        pod String,
        container LowCardinality(String),
        node LowCardinality(String),
        service LowCardinality(String),`
/** The bus position an intake table passes on to its table of record (migrations 11 and 12). */
const INTAKE_BUS_COLUMNS = `bus_source LowCardinality(String),
        bus_partition UInt16,
        bus_offset UInt64,`
/** A view's select list for the envelope columns of the stream or series table `alias`. */
const dimensionEnvelope = (alias: string): string =>
  ['cluster', 'namespace', 'workload_kind', 'workload_name', 'pod', 'container', 'node', 'service']
    .map((column) => `${alias}.${column} AS ${column}`)
    .join(', ')
const intakeBusPosition = (alias: string): string =>
  ['bus_source', 'bus_partition', 'bus_offset'].map((column) => `${alias}.${column} AS ${column}`).join(', ')

/**
 * An intake block's rows with their stream or series joined in (migrations 11-13 and 15). The right
 * side is only the ids the block names (the primary key finds them), so the join costs the same
 * however many exist; a dimension row written again (last_seen refreshed) is identical but for
 * that: ANY takes one. `columns` (after the id) are what the view reads of the dimension rows; all
 * of them when not given.
 */
const joinBlockDimensions = (
  db: string,
  intake: TableName,
  rows: string,
  dimensions: TableName,
  id: string,
  columns?: readonly string[],
): string => `FROM ${db}.${intake} AS ${rows}
        ANY LEFT JOIN (
          SELECT ${columns ? [id, ...columns].join(', ') : '*'} FROM ${db}.${dimensions}
          WHERE ${id} IN (SELECT ${id} FROM ${db}.${intake})
        ) AS s ON ${rows}.${id} = s.${id}`

/** The metric rollup's view (migrations 13 and 15, until 17), reading `series` of each sample's series row. */
const metricRollupView = (db: string, series?: readonly string[]): string =>
  `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.metrics_1m_intake_mv TO ${db}.${TABLES.metrics1m} AS
        SELECT toStartOfMinute(sample.ts) AS minute, ${METRIC_ROLLUP_KEYS.map((c) => `s.${c} AS ${c}`).join(', ')},
          ${metricRollupAggregates('sample.value', 'sample.ts')}
        ${joinBlockDimensions(db, TABLES.metricIntake, 'sample', TABLES.metricSeries, 'series_id', series)}
        GROUP BY minute, ${METRIC_ROLLUP_KEYS.join(', ')}`

/** What the one-minute metric rollup groups by (migrations 4 and 13). */
const METRIC_ROLLUP_KEYS = 'cluster namespace workload_kind workload_name pod container name'.split(' ')
/** The rollup's aggregates of a sample's value and time (migrations 4 and 13). */
const metricRollupAggregates = (value: string, ts: string): string =>
  `count() AS samples, sum(${value}) AS sum, min(${value}) AS min, max(${value}) AS max,
          argMaxState(${value}, ${ts}) AS last, quantilesTDigestState(0.5, 0.9, 0.99)(${value}) AS quantiles`

/** The metric rollup's aggregate columns (migrations 3 and 17), which `metricRollupAggregates` fills. */
const METRIC_ROLLUP_STATES = `samples SimpleAggregateFunction(sum, UInt64),
        sum SimpleAggregateFunction(sum, Float64),
        min SimpleAggregateFunction(min, Float64),
        max SimpleAggregateFunction(max, Float64),
        last AggregateFunction(argMax, Float64, DateTime64(3)),
        quantiles AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64)`
const METRIC_ROLLUP_STATE_NAMES = 'samples sum min max last quantiles'.split(' ')

/** TTL clauses are set after migration from configuration (see `applyTableSettings`), not here. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'signal tables',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.logs} (${ENVELOPE},
        level LowCardinality(String),
        stream LowCardinality(String),
        source LowCardinality(String),
        template_id String,
        message String CODEC(ZSTD(3)),
        INDEX idx_message lower(message) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 4,
        INDEX idx_pod pod TYPE bloom_filter(0.01) GRANULARITY 4
      ) ENGINE = MergeTree ${DAILY} ORDER BY (cluster, namespace, workload_name, ts) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metrics} (${ENVELOPE},
        name LowCardinality(String),
        type LowCardinality(String),
        value Float64 CODEC(Gorilla, ZSTD(1)),
        labels Map(LowCardinality(String), String)
      ) ENGINE = MergeTree ${DAILY} ORDER BY (cluster, name, namespace, workload_name, pod, ts) ${SETTINGS}`,
      // Events and changes are re-listed when a watch restarts: ReplacingMergeTree folds the repeats.
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.kubeEvents} (${ENVELOPE},
        uid String,
        type LowCardinality(String),
        reason LowCardinality(String),
        message String CODEC(ZSTD(3)),
        involved_kind LowCardinality(String),
        involved_name String,
        involved_namespace LowCardinality(String),
        involved_uid String,
        reporting_component LowCardinality(String),
        count UInt32,
        first_ts DateTime64(3)
      ) ENGINE = ReplacingMergeTree ${DAILY}
        ORDER BY (cluster, namespace, involved_kind, involved_name, ts, uid, count) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.resourceChanges} (${ENVELOPE},
        change_kind LowCardinality(String),
        resource_kind LowCardinality(String),
        resource_name String,
        resource_uid String,
        revision String,
        from_replicas Nullable(UInt32),
        to_replicas Nullable(UInt32),
        images Array(Tuple(container String, from String, to String)),
        diff Array(Tuple(path String, from String, to String)),
        actor LowCardinality(String)
      ) ENGINE = ReplacingMergeTree ${DAILY}
        ORDER BY (cluster, namespace, resource_kind, resource_name, ts, change_kind, revision) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.flows} (${ENVELOPE},
        start_ts DateTime64(3),
        src_namespace LowCardinality(String),
        src_name String,
        src_aggregated LowCardinality(String),
        src_type LowCardinality(String),
        src_labels Map(LowCardinality(String), String),
        src_ip String,
        dst_namespace LowCardinality(String),
        dst_name String,
        dst_aggregated LowCardinality(String),
        dst_type LowCardinality(String),
        dst_labels Map(LowCardinality(String), String),
        dst_ip String,
        dst_port UInt16,
        dst_service_name LowCardinality(String),
        dst_service_namespace LowCardinality(String),
        protocol LowCardinality(String),
        action Enum8('allow' = 1, 'deny' = 2),
        reporter Enum8('src' = 1, 'dst' = 2),
        bytes_in UInt64 CODEC(T64, ZSTD(1)),
        bytes_out UInt64 CODEC(T64, ZSTD(1)),
        packets_in UInt64 CODEC(T64, ZSTD(1)),
        packets_out UInt64 CODEC(T64, ZSTD(1)),
        flow_count UInt32,
        policies Array(String)
      ) ENGINE = MergeTree ${DAILY}
        ORDER BY (cluster, src_namespace, src_aggregated, dst_namespace, dst_aggregated, ts) ${SETTINGS}`,
    ],
  },
  {
    version: 2,
    name: 'finding tables',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.anomalies} (${ENVELOPE},
        id String,
        entity_kind LowCardinality(String),
        entity_name String,
        entity_namespace LowCardinality(String),
        signal LowCardinality(String),
        kind LowCardinality(String),
        score Float32,
        severity LowCardinality(String),
        summary String,
        evidence String CODEC(ZSTD(3))
      ) ENGINE = ReplacingMergeTree ${DAILY} ORDER BY (cluster, entity_kind, entity_name, ts, id) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.incidents} (${ENVELOPE},
        id String,
        version UInt32,
        status LowCardinality(String),
        severity LowCardinality(String),
        title String,
        opened_at DateTime64(3),
        resolved_at Nullable(DateTime64(3)),
        anomaly_ids Array(String),
        entities String
      ) ENGINE = ReplacingMergeTree(version) ORDER BY (cluster, id) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.rootCauses} (${ENVELOPE},
        incident_id String,
        rank UInt16,
        entity_kind LowCardinality(String),
        entity_name String,
        entity_namespace LowCardinality(String),
        score Float32,
        explanation String,
        evidence String CODEC(ZSTD(3))
      ) ENGINE = ReplacingMergeTree(ts) ORDER BY (cluster, incident_id, rank) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.alerts} (${ENVELOPE},
        fingerprint String,
        status LowCardinality(String),
        labels Map(LowCardinality(String), String),
        annotations Map(LowCardinality(String), String),
        starts_at DateTime64(3),
        ends_at Nullable(DateTime64(3)),
        incident_id String
      ) ENGINE = ReplacingMergeTree(ts) ORDER BY (cluster, fingerprint, starts_at) ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.actions} (${ENVELOPE},
        id String,
        incident_id String,
        policy LowCardinality(String),
        kind LowCardinality(String),
        target_kind LowCardinality(String),
        target_name String,
        target_namespace LowCardinality(String),
        params Map(LowCardinality(String), String),
        status LowCardinality(String),
        reason String,
        actor LowCardinality(String)
      ) ENGINE = ReplacingMergeTree(ts) ORDER BY (cluster, id) ${SETTINGS}`,
    ],
  },
  {
    version: 3,
    name: 'one-minute rollups for metrics and flows',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metrics1m} (
        minute DateTime CODEC(Delta, ZSTD(1)),
        cluster LowCardinality(String),
        namespace LowCardinality(String),
        workload_kind LowCardinality(String),
        workload_name LowCardinality(String),
        pod String,
        container LowCardinality(String),
        name LowCardinality(String),
        ${METRIC_ROLLUP_STATES}
      ) ENGINE = AggregatingMergeTree PARTITION BY toDate(minute)
        ORDER BY (cluster, name, namespace, workload_name, pod, container, workload_kind, minute) ${SETTINGS}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.metrics_1m_mv TO ${db}.${TABLES.metrics1m} AS
        SELECT toStartOfMinute(ts) AS minute, ${METRIC_ROLLUP_KEYS.join(', ')},
          ${metricRollupAggregates('value', 'ts')}
        FROM ${db}.${TABLES.metrics}
        GROUP BY minute, ${METRIC_ROLLUP_KEYS.join(', ')}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.flows1m} (
        minute DateTime CODEC(Delta, ZSTD(1)),
        cluster LowCardinality(String),
        src_namespace LowCardinality(String),
        src_aggregated LowCardinality(String),
        dst_namespace LowCardinality(String),
        dst_aggregated LowCardinality(String),
        dst_service_name LowCardinality(String),
        dst_port UInt16,
        protocol LowCardinality(String),
        flows UInt64,
        denied_flows UInt64,
        bytes UInt64,
        packets UInt64
      ) ENGINE = SummingMergeTree PARTITION BY toDate(minute)
        ORDER BY (cluster, src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol, minute) ${SETTINGS}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.flows_1m_mv TO ${db}.${TABLES.flows1m} AS
        SELECT toStartOfMinute(ts) AS minute, cluster, src_namespace, src_aggregated, dst_namespace, dst_aggregated,
          dst_service_name, dst_port, protocol,
          sum(flow_count) AS flows, sumIf(flow_count, action = 'deny') AS denied_flows,
          sum(bytes_in + bytes_out) AS bytes, sum(packets_in + packets_out) AS packets
        FROM ${db}.${TABLES.flows}
        GROUP BY minute, cluster, src_namespace, src_aggregated, dst_namespace, dst_aggregated, dst_service_name, dst_port, protocol`,
    ],
  },
  {
    version: 4,
    name: 'dead letters',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.deadLetters} (
        ts DateTime64(3) CODEC(Delta, ZSTD(1)),
        topic LowCardinality(String),
        partition UInt32,
        offset UInt64,
        consumer_group LowCardinality(String),
        error_code LowCardinality(String),
        error_message String,
        attempts UInt32,
        key String,
        payload String CODEC(ZSTD(3)),
        headers Map(String, String)
      ) ENGINE = MergeTree ${DAILY} ORDER BY (topic, ts) ${SETTINGS}`,
    ],
  },
  {
    version: 5,
    name: 'bus offsets for exactly-once writes from durable buses',
    statements: (db) => [
      ...OFFSET_TRACKED_AT_V5.flatMap((table) => [
        `ALTER TABLE ${db}.${table} ADD COLUMN IF NOT EXISTS bus_source LowCardinality(String) DEFAULT ''`,
        `ALTER TABLE ${db}.${table} ADD COLUMN IF NOT EXISTS bus_partition UInt16 DEFAULT 0`,
        `ALTER TABLE ${db}.${table} ADD COLUMN IF NOT EXISTS bus_offset UInt64 DEFAULT 0 CODEC(Delta, ZSTD(1))`,
      ]),
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.busOffsets} (
        table_name LowCardinality(String),
        bus_source LowCardinality(String),
        bus_partition UInt16,
        max_offset SimpleAggregateFunction(max, UInt64)
      ) ENGINE = AggregatingMergeTree ORDER BY (table_name, bus_source, bus_partition)`,
      // Part of the same insert as the rows, so the mark can never be ahead of or behind the data.
      ...OFFSET_TRACKED_AT_V5.map((table) => busOffsetView(db, table)),
    ],
  },
  {
    version: 6,
    name: 'skip index on bus offsets',
    // Lets the writer find rows above the view's mark quickly: an embedded engine killed mid-insert
    // can commit the rows without the view's part, leaving the mark behind the data.
    statements: (db) =>
      OFFSET_TRACKED_AT_V5.map(
        (table) =>
          `ALTER TABLE ${db}.${table} ADD INDEX IF NOT EXISTS idx_bus_offset bus_offset TYPE minmax GRANULARITY 1`,
      ),
  },
  {
    version: 7,
    name: 'pod and node states',
    // Re-listed after a watch restart: ReplacingMergeTree folds the repeats of one observation.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.objectStates} (${ENVELOPE},
        resource_kind LowCardinality(String),
        resource_name String,
        resource_uid String,
        phase LowCardinality(String),
        reason LowCardinality(String),
        message String CODEC(ZSTD(3)),
        deleted Bool,
        conditions Array(Tuple(type LowCardinality(String), status LowCardinality(String), reason String)),
        containers Array(Tuple(name String, state LowCardinality(String), ready Bool, restarts UInt32,
          reason String, exit_code Nullable(Int32), last_termination_reason String,
          last_exit_code Nullable(Int32), last_terminated_at Nullable(DateTime64(3)))),
        owners Array(Tuple(kind LowCardinality(String), name String)),
        services Array(String),
        ${BUS_COLUMNS}
      ) ENGINE = ReplacingMergeTree ${DAILY}
        ORDER BY (cluster, resource_kind, namespace, resource_name, ts, resource_uid) ${SETTINGS}`,
      busOffsetView(db, TABLES.objectStates),
    ],
  },
  {
    version: 8,
    name: 'alerts from other systems',
    // Alertmanager resends firing alerts every repeat_interval: the same (fingerprint, start, status) folds.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.externalAlerts} (${ENVELOPE},
        source LowCardinality(String),
        receiver LowCardinality(String),
        status LowCardinality(String),
        fingerprint String,
        alertname LowCardinality(String),
        severity LowCardinality(String),
        labels Map(LowCardinality(String), String),
        annotations Map(LowCardinality(String), String),
        starts_at DateTime64(3),
        ends_at Nullable(DateTime64(3)),
        generator_url String,
        group_key String,
        ${BUS_COLUMNS}
      ) ENGINE = ReplacingMergeTree ${DAILY}
        ORDER BY (cluster, fingerprint, starts_at, status) ${SETTINGS}`,
      busOffsetView(db, TABLES.externalAlerts),
    ],
  },
  {
    version: 9,
    name: 'alert delivery log and silences',
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.alertDeliveries} (${ENVELOPE},
        receiver LowCardinality(String),
        group_key String,
        sequence UInt32,
        idempotency_key String,
        status LowCardinality(String),
        notification_status LowCardinality(String),
        attempts UInt16,
        reason String,
        status_code Nullable(UInt16),
        fingerprints Array(String),
        incident_ids Array(String),
        ${BUS_COLUMNS}
      ) ENGINE = MergeTree ${DAILY} ORDER BY (receiver, ts) ${SETTINGS}`,
      busOffsetView(db, TABLES.alertDeliveries),
      // Written by the API (not the bus writer); an expiry is a newer version of the same id.
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.silences} (
        id String,
        matchers Array(String),
        starts_at DateTime64(3),
        ends_at DateTime64(3),
        created_by String,
        comment String,
        updated_at DateTime64(3)
      ) ENGINE = ReplacingMergeTree(updated_at) ORDER BY id ${SETTINGS}`,
    ],
  },
  {
    version: 10,
    name: 'remediation audit log',
    // Every decision on an action is kept (proposed, waiting, approved, executed, verified), not only
    // its latest state as the `actions` table of migration 2 would.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.actionLog} (${ENVELOPE},
        id String,
        incident_id String,
        policy LowCardinality(String),
        kind LowCardinality(String),
        target_kind LowCardinality(String),
        target_name String,
        target_namespace LowCardinality(String),
        params Map(LowCardinality(String), String),
        status LowCardinality(String),
        reason String,
        actor LowCardinality(String),
        ${BUS_COLUMNS}
      ) ENGINE = MergeTree ${DAILY} ORDER BY (cluster, incident_id, ts, id) ${SETTINGS}`,
      busOffsetView(db, TABLES.actionLog),
    ],
  },
  {
    version: 11,
    name: 'narrow log inserts: log streams joined in by a view',
    // `logs` stays the table of record; the writer now sends each line as (stream id, ts, level,
    // template, message, own attributes) and each stream once (see NarrowInsert in row-mappers).
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.logStreams} (
        stream_id String,
        ${DIMENSION_ENVELOPE}
        stream LowCardinality(String),
        source LowCardinality(String),
        attributes Map(LowCardinality(String), String),
        last_seen DateTime CODEC(Delta, ZSTD(1))
      ) ENGINE = ReplacingMergeTree(last_seen) ORDER BY stream_id ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.logIntake} (
        ${INTAKE_BUS_COLUMNS}
        stream_id String,
        ts DateTime64(3),
        level LowCardinality(String),
        template_id String,
        message String,
        attributes Map(LowCardinality(String), String)
      ) ENGINE = Null`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.log_intake_mv TO ${db}.${TABLES.logs} AS
        SELECT line.ts AS ts, ${dimensionEnvelope('s')},
          mapUpdate(s.attributes, line.attributes) AS attributes, line.level AS level,
          s.stream AS stream, s.source AS source, line.template_id AS template_id, line.message AS message,
          ${intakeBusPosition('line')}
        ${joinBlockDimensions(db, TABLES.logIntake, 'line', TABLES.logStreams, 'stream_id')}`,
    ],
  },
  {
    version: 12,
    name: 'narrow metric inserts: series joined in by a view',
    // As migration 11 for logs: samples arrive as (series id, ts, value), each series once.
    // metric_samples stays the table of record, and its rollup view still fills metrics_1m.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metricSeries} (
        series_id String,
        ${DIMENSION_ENVELOPE}
        attributes Map(LowCardinality(String), String),
        name LowCardinality(String),
        type LowCardinality(String),
        labels Map(LowCardinality(String), String),
        last_seen DateTime CODEC(Delta, ZSTD(1))
      ) ENGINE = ReplacingMergeTree(last_seen) ORDER BY series_id ${SETTINGS}`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metricIntake} (
        ${INTAKE_BUS_COLUMNS}
        series_id String,
        ts DateTime64(3),
        value Float64
      ) ENGINE = Null`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.metric_intake_mv TO ${db}.${TABLES.metrics} AS
        SELECT sample.ts AS ts, ${dimensionEnvelope('s')}, s.attributes AS attributes,
          s.name AS name, s.type AS type, sample.value AS value, s.labels AS labels, ${intakeBusPosition('sample')}
        ${joinBlockDimensions(db, TABLES.metricIntake, 'sample', TABLES.metricSeries, 'series_id')}`,
    ],
  },
  {
    version: 13,
    name: 'metric samples as points, joined to their series',
    // metric_samples wrote each sample's labels and envelope again, and merged them again: half of
    // what storing a sample cost. A point keeps what changes (series id, time, value), the series
    // row the rest, as a time-series database does. Older samples stay in metric_samples until
    // they expire; reads take both. The rollup now comes from the intake, its series joined in.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metricPoints} (
        series_id String,
        ts DateTime64(3) CODEC(DoubleDelta, ZSTD(1)),
        value Float64 CODEC(Gorilla, ZSTD(1)),
        ${BUS_COLUMNS}
      ) ENGINE = MergeTree ${DAILY} ORDER BY (series_id, ts) ${SETTINGS}`,
      busOffsetView(db, TABLES.metricPoints),
      carryBusOffsets(db, TABLES.metrics, TABLES.metricPoints),
      `DROP VIEW IF EXISTS ${db}.metric_intake_mv`,
      `DROP VIEW IF EXISTS ${db}.metrics_1m_mv`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.metric_points_mv TO ${db}.${TABLES.metricPoints} AS
        SELECT series_id, ts, value, bus_source, bus_partition, bus_offset FROM ${db}.${TABLES.metricIntake}`,
      metricRollupView(db),
    ],
  },
  {
    version: 14,
    name: 'log lines joined to their streams',
    // As migration 13 for metrics: `logs` wrote each line's stream (envelope, labels) again, nine
    // dictionary-encoded columns per line, a quarter of what storing a line cost. A line keeps what
    // is its own; the stream row the rest. Older lines stay in `logs` until they expire; reads take
    // both. Ordered by stream: a search by namespace, workload or pod reads those streams' lines.
    statements: (db) => [
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.logLines} (
        stream_id String,
        ts DateTime64(3) CODEC(Delta, ZSTD(1)),
        level LowCardinality(String),
        template_id String,
        message String CODEC(ZSTD(3)),
        attributes Map(LowCardinality(String), String),
        ${BUS_COLUMNS},
        INDEX idx_message lower(message) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 4
      ) ENGINE = MergeTree ${DAILY} ORDER BY (stream_id, ts) ${SETTINGS}`,
      busOffsetView(db, TABLES.logLines),
      carryBusOffsets(db, TABLES.logs, TABLES.logLines),
      `DROP VIEW IF EXISTS ${db}.log_intake_mv`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.log_lines_mv TO ${db}.${TABLES.logLines} AS
        SELECT stream_id, ts, level, template_id, message, attributes, bus_source, bus_partition, bus_offset
        FROM ${db}.${TABLES.logIntake}`,
    ],
  },
  {
    version: 15,
    name: 'metric rollup reads only the series columns it groups by',
    // The view read whole series rows (labels and attributes maps too) for every block, to group by
    // seven of their columns. Inserting 600k samples of 20,000 series: 4.2-4.6 -> 4.0-4.4 µs of
    // process CPU per sample.
    statements: (db) => [
      `DROP VIEW IF EXISTS ${db}.metrics_1m_intake_mv`,
      metricRollupView(db, METRIC_ROLLUP_KEYS),
    ],
  },
  {
    version: 16,
    name: 'intake tables read strings as strings',
    // An intake table passes its rows on and keeps none, so a LowCardinality column there buys no
    // storage; it made the engine put every row's value in a dictionary as it parsed it. The views
    // cast to the stored tables' LowCardinality columns once per block. Embedded ClickHouse, the
    // writer's rows in 50k-row blocks through these tables and views, merges stopped, medians of 5
    // alternating rounds: 5.3 -> 4.5 µs of process CPU per log line, 3.1 -> 2.4 per sample.
    statements: (db) => [
      `ALTER TABLE ${db}.${TABLES.logIntake} MODIFY COLUMN bus_source String, MODIFY COLUMN level String`,
      `ALTER TABLE ${db}.${TABLES.metricIntake} MODIFY COLUMN bus_source String`,
    ],
  },
  {
    version: 17,
    name: 'metric rollup grouped by a key the points carry',
    // The rollup's view joined every block of points to their series rows, to group by seven of
    // their columns: half of what embedded ClickHouse spent storing a point. Points now carry their
    // series' rollup key (those columns hashed by the writer, see `metricRollupKey`), the view
    // groups by that number alone, and series rows carry it too, to name the rollup's rows. 1.4M
    // points in 200k-row blocks, merges stopped: 1.3 -> 0.7 µs of CPU per point (0.6 without a
    // rollup). metrics_1m keeps what it rolled up until that expires; metrics_1m_all reads both.
    statements: (db) => [
      `ALTER TABLE ${db}.${TABLES.metricSeries} ADD COLUMN IF NOT EXISTS rollup_key UInt64 DEFAULT 0 AFTER labels`,
      `ALTER TABLE ${db}.${TABLES.metricIntake} ADD COLUMN IF NOT EXISTS rollup_key UInt64 DEFAULT 0 AFTER series_id`,
      `CREATE TABLE IF NOT EXISTS ${db}.${TABLES.metricRollup1m} (
        minute DateTime CODEC(Delta, ZSTD(1)),
        rollup_key UInt64,
        ${METRIC_ROLLUP_STATES}
      ) ENGINE = AggregatingMergeTree PARTITION BY toDate(minute) ORDER BY (rollup_key, minute) ${SETTINGS}`,
      `DROP VIEW IF EXISTS ${db}.metrics_1m_intake_mv`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.metric_rollup_1m_mv TO ${db}.${TABLES.metricRollup1m} AS
        SELECT toStartOfMinute(ts) AS minute, rollup_key, ${metricRollupAggregates('value', 'ts')}
        FROM ${db}.${TABLES.metricIntake}
        GROUP BY minute, rollup_key`,
      // For reading: the rollup in metrics_1m's columns, each key named by a series row that has it.
      `CREATE VIEW IF NOT EXISTS ${db}.metrics_1m_all AS
        SELECT r.minute AS minute, ${METRIC_ROLLUP_KEYS.map((c) => `k.${c} AS ${c}`).join(', ')},
          ${METRIC_ROLLUP_STATE_NAMES.map((c) => `r.${c} AS ${c}`).join(', ')}
        FROM ${db}.${TABLES.metricRollup1m} AS r
        ANY LEFT JOIN (
          SELECT rollup_key, ${METRIC_ROLLUP_KEYS.map((c) => `any(${c}) AS ${c}`).join(', ')}
          FROM ${db}.${TABLES.metricSeries} WHERE rollup_key != 0 GROUP BY rollup_key
        ) AS k ON r.rollup_key = k.rollup_key
        UNION ALL
        SELECT minute, ${METRIC_ROLLUP_KEYS.join(', ')}, ${METRIC_ROLLUP_STATE_NAMES.join(', ')}
        FROM ${db}.${TABLES.metrics1m}`,
    ],
  },
]
