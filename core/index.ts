export { ArgusError, ERROR_CODES, asError, errorMessage, isArgusError, isRetriable } from './errors.js'
export type { ArgusErrorOptions, ErrorCode } from './errors.js'
export { DEFAULT_RETRY, backoffDelay, retry, sleep } from './retry.js'
export type { RetryOptions } from './retry.js'
export { setBounded } from './bounded-map.js'
export { isPlainObject, sameFlatValue } from './flat-object.js'
export { startAll } from './lifecycle.js'
export type { Component } from './lifecycle.js'
export { createLogger } from './logger.js'
export type { Logger } from './logger.js'
export {
  Counter,
  Gauge,
  Histogram,
  Registry,
  counter,
  createMetricsRegistry,
  gauge,
  histogram,
} from './metrics.js'
export {
  ConfigSchema,
  DEFAULT_CONFIG,
  ENV_VARS,
  ROLES,
  loadConfig,
  redactConfig,
  validateConfig,
} from './config.js'
export type { ArgusConfig, Role } from './config.js'
export {
  DEAD_LETTER_HEADERS,
  SIGNAL_TOPICS,
  TOPICS,
  TOPIC_SCHEMAS,
  partitionKey,
  samePartitionKey,
  type KeyedEnvelope,
} from './topics.js'
export type { TopicName } from './topics.js'
export { Attributes, EntityRef, Envelope, WorkloadRef } from './schemas/envelope.js'
export {
  ChangeKind,
  ExternalAlert,
  KubeEvent,
  LogLevel,
  LogRecord,
  MetricBatch,
  MetricSample,
  MetricSeries,
  MetricType,
  NetworkFlow,
  ObjectState,
  ResourceChange,
} from './schemas/signals.js'
export {
  Action,
  ActionKind,
  ActionStatus,
  Alert,
  AlertDelivery,
  AlertDeliveryStatus,
  Anomaly,
  Evidence,
  Incident,
  IncidentStatus,
  RootCause,
  Severity,
  RemediationCommand,
  Silence,
  SignalKind,
  WorkloadForecast,
} from './schemas/findings.js'
export { GENERATED_SUFFIX_CHARS, workloadOfAggregatedName } from './workload-names.js'
export { parseDuration } from './duration.js'
export { StreamIdHasher } from './stream-id.js'
export { envelopeIdentity, metricSeriesId } from './series-identity.js'
export { checkMetricBatch, checkMetricSeries } from './metric-batch.js'
export { startTypeScriptWorker } from './typescript-worker.js'
export { KnownBytes } from './known-bytes.js'
export { freezeDeep } from './freeze-deep.js'
export { FallbackThread } from './fallback-thread.js'
