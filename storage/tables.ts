/** One table per signal kind and per finding kind. */
export const TABLES = {
  kubeEvents: 'kube_events',
  resourceChanges: 'resource_changes',
  objectStates: 'object_states',
  externalAlerts: 'external_alerts',
  /** Log records stored whole, each with its stream's envelope: the table of record until migration 14. */
  logs: 'logs',
  /** Log lines as (stream id, ts, level, template, message, own attributes); joined to log_streams. */
  logLines: 'log_lines',
  /** One row per log stream (pod, container, labels): what every line of it shares. */
  logStreams: 'log_streams',
  /** Null engine: narrow log rows pass through it to `log_lines` (see NarrowInsert). */
  logIntake: 'log_intake',
  /** Samples stored whole, each with its series' labels: the table of record until migration 13. */
  metrics: 'metric_samples',
  /** One row per series (name, labels, envelope): what every sample of it shares. */
  metricSeries: 'metric_series',
  /** Samples as (series id, ts, value), as a time-series database keeps them; joined to metric_series. */
  metricPoints: 'metric_points',
  /** Null engine: narrow samples pass through it to `metric_points` and the `metric_rollup_1m` rollup. */
  metricIntake: 'metric_intake',
  /** Per minute and rollup key (a series' pod, container and name; see `metric_series`): the metric rollup. */
  metricRollup1m: 'metric_rollup_1m',
  flows: 'network_flows',
  anomalies: 'anomalies',
  incidents: 'incidents',
  rootCauses: 'root_causes',
  alerts: 'alerts',
  alertDeliveries: 'alert_deliveries',
  silences: 'silences',
  actions: 'actions',
  actionLog: 'action_log',
  /** The metric rollup by pod, container and name until migration 17; read through `metrics_1m_all`. */
  metrics1m: 'metrics_1m',
  flows1m: 'flows_1m',
  deadLetters: 'dead_letters',
  busOffsets: 'bus_offsets',
  migrations: 'schema_migrations',
} as const

export type TableName = (typeof TABLES)[keyof typeof TABLES]

/** Tables whose rows expire after the signal retention; the rest use the finding retention. */
export const SIGNAL_TABLES: readonly TableName[] = [
  TABLES.kubeEvents,
  TABLES.resourceChanges,
  TABLES.objectStates,
  TABLES.externalAlerts,
  TABLES.logs,
  TABLES.logLines,
  TABLES.logStreams,
  TABLES.metrics,
  TABLES.metricSeries,
  TABLES.metricPoints,
  TABLES.flows,
  TABLES.metrics1m,
  TABLES.metricRollup1m,
  TABLES.flows1m,
]
/** Findings, and dead letters, which someone must get to look at: kept for the finding retention. */
export const FINDING_TABLES: readonly TableName[] = [
  TABLES.deadLetters,
  TABLES.anomalies,
  TABLES.incidents,
  TABLES.rootCauses,
  TABLES.alerts,
  TABLES.alertDeliveries,
  TABLES.actions,
  TABLES.actionLog,
]

/** Column holding each table's time, used for partitioning and TTL. */
export const TIME_COLUMN: Partial<Record<TableName, string>> = {
  [TABLES.metrics1m]: 'minute',
  [TABLES.metricRollup1m]: 'minute',
  [TABLES.flows1m]: 'minute',
  [TABLES.logStreams]: 'last_seen',
  [TABLES.metricSeries]: 'last_seen',
}
