import { readFileSync } from 'node:fs'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml } from 'yaml'
import { ArgusError, errorMessage } from './errors.js'

const Port = Type.Integer({ minimum: 0, maximum: 65535 })
const PositiveInt = Type.Integer({ minimum: 1 })

/** The parts of the pipeline a process runs; several processes joined by Kafka split them. */
export const ROLES = ['collector', 'writer', 'analyzer', 'remediator', 'api'] as const
export type Role = (typeof ROLES)[number]

export const ConfigSchema = Type.Object(
  {
    roles: Type.Array(
      Type.Union([
        Type.Literal('collector'),
        Type.Literal('writer'),
        Type.Literal('analyzer'),
        Type.Literal('remediator'),
        Type.Literal('api'),
      ]),
      {
        minItems: 1,
        uniqueItems: true,
      },
    ),
    cluster: Type.String({ minLength: 1, description: 'name of the cluster this Argus watches' }),
    dataDir: Type.String({ minLength: 1, description: 'embedded ClickHouse data and other state' }),
    log: Type.Object(
      {
        level: Type.Union([
          Type.Literal('fatal'),
          Type.Literal('error'),
          Type.Literal('warn'),
          Type.Literal('info'),
          Type.Literal('debug'),
          Type.Literal('trace'),
          Type.Literal('silent'),
        ]),
      },
      { additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        bodyLimitBytes: Type.Integer({ minimum: 1024 }),
        /** How long an ingest request waits for bus space before answering 503 (fluentd retries 503). */
        publishTimeoutMs: PositiveInt,
      },
      { additionalProperties: false },
    ),
    clickhouse: Type.Object(
      {
        url: Type.Optional(Type.String({ pattern: '^https?://' })),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        database: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
        signalRetentionDays: PositiveInt,
        findingRetentionDays: PositiveInt,
        /**
         * The n-gram index that lets a text search skip log lines without the text; `none` stores a
         * line for about a fifth less ClickHouse CPU, and searches scan the streams and times asked.
         */
        logTextIndex: Type.Union([Type.Literal('ngram'), Type.Literal('none')]),
      },
      { additionalProperties: false },
    ),
    bus: Type.Object(
      {
        partitions: Type.Integer({ minimum: 1, maximum: 1024 }),
        /** Messages a partition holds before publishers wait: the in-process bus's bound. */
        partitionCapacity: Type.Integer({ minimum: 16 }),
      },
      { additionalProperties: false },
    ),
    sim: Type.Object(
      {
        /** `auto`: run the simulated cluster when no Kubernetes configuration is found. */
        mode: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')]),
        seed: Type.Integer({ minimum: 0 }),
        stepMs: Type.Integer({ minimum: 100 }),
        faultIntervalMs: Type.Integer({ minimum: 1000 }),
        faultDurationMs: Type.Integer({ minimum: 1000 }),
      },
      { additionalProperties: false },
    ),
    kafka: Type.Object(
      {
        /** Empty: the in-process bus. Set (KAFKA_BROKERS=host:port,...) to run on Kafka. */
        brokers: Type.Array(Type.String({ pattern: '^[^\\s:]+:\\d+$' })),
        clientId: Type.String({ minLength: 1 }),
        partitions: Type.Integer({ minimum: 1 }),
        replicationFactor: Type.Integer({ minimum: 1 }),
        retentionHours: Type.Integer({ minimum: 1 }),
        compression: Type.Union([Type.Literal('none'), Type.Literal('gzip'), Type.Literal('snappy')]),
      },
      { additionalProperties: false },
    ),
    forward: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        /** Fluentd Forward protocol port (TCP); -1 turns the receiver off, 0 takes any free port. */
        port: Type.Integer({ minimum: -1, maximum: 65535 }),
        /** Shared key for fluentd's `<security>` handshake; unset accepts clients without one. */
        sharedKey: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    calico: Type.Object(
      {
        /** Calico flow log files to tail (JSON lines), e.g. /var/log/calico/flowlogs/flows.log. */
        flowLogFiles: Type.Array(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    prometheus: Type.Object(
      {
        /** Text-format endpoints to scrape, e.g. http://node-exporter:9100/metrics. */
        targets: Type.Array(Type.String({ pattern: '^https?://' })),
        scrapeIntervalMs: Type.Integer({ minimum: 1000 }),
      },
      { additionalProperties: false },
    ),
    analyzer: Type.Object(
      {
        /** Log records a workload sends before a template it has never used counts as new. */
        logWarmupRecords: Type.Integer({ minimum: 0 }),
        /** Points a metric series needs before it can raise an anomaly (its baseline). */
        metricWarmupPoints: Type.Integer({ minimum: 1 }),
        /** Metric series (indicator per pod or workload) scored at most: the detectors' memory bound. */
        metricMaxSeries: PositiveInt,
        /** How often workload models are retrained from stored history; 0 turns learned models off. */
        modelRetrainIntervalMs: Type.Integer({ minimum: 0 }),
        /** Stored history a training reads. */
        modelHistoryMs: PositiveInt,
        /** Indicator rows a workload needs before it gets a model. */
        modelMinRows: Type.Integer({ minimum: 32 }),
        /** Workloads trained per round at most (the most recently active first). */
        modelMaxWorkloads: PositiveInt,
        /** Points a workload's model forecasts ahead for predictive autoscaling; 0: no forecasts. */
        modelForecastSteps: Type.Integer({ minimum: 0, maximum: 60 }),
        /** A forecast is told when load or CPU is to rise this many percent within those points. */
        modelForecastMinRisePercent: PositiveInt,
        /** An anomaly joins an open incident it relates to when at most this much later than its last one. */
        incidentWindowMs: PositiveInt,
        /** An incident with no new anomaly for this long is resolved. */
        incidentQuietMs: PositiveInt,
        /**
         * An incident's root cause failing again this soon after it resolved reopens it; 0 (the
         * default): never, since a new problem on the same entity would join the old ranking.
         */
        incidentReopenMs: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    alerts: Type.Object(
      {
        /** Alerting YAML (routes, receivers, inhibit rules); unset: incidents are not sent to chat. */
        configFile: Type.Optional(Type.String({ minLength: 1 })),
        /** Argus's URL as people reach it, for incident links (default: the HTTP listen address). */
        externalUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
      },
      { additionalProperties: false },
    ),
    remediation: Type.Object(
      {
        /** Remediation policies (YAML); unset: the remediator role does nothing. Dry-run unless it enforces. */
        configFile: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    kube: Type.Object(
      {
        /** How often kubelet metrics are scraped through the API server's node proxy; 0 turns it off. */
        metricsIntervalMs: Type.Integer({ minimum: 0 }),
        /** Kubelet paths to scrape per node; `{node}` is replaced by the node name (kwok serves per-node paths). */
        metricsPaths: Type.Array(Type.String({ pattern: '^/' }), { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    writer: Type.Object(
      {
        /** Kafka consumer group of the storage writers; two installs sharing a Kafka cluster need two. */
        group: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
        maxBatchRows: PositiveInt,
        maxWaitMs: Type.Integer({ minimum: 0 }),
        /** On Kafka, bytes a fetch waits for (up to maxWaitMs) before the writer takes it. */
        minBatchBytes: PositiveInt,
        maxInFlightInserts: PositiveInt,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
export type ArgusConfig = Static<typeof ConfigSchema>

export const DEFAULT_CONFIG: ArgusConfig = {
  roles: [...ROLES],
  cluster: 'default',
  dataDir: './data',
  log: { level: 'info' },
  http: { host: '127.0.0.1', port: 8080, bodyLimitBytes: 16 * 1024 * 1024, publishTimeoutMs: 5_000 },
  clickhouse: { database: 'argus', signalRetentionDays: 7, findingRetentionDays: 90, logTextIndex: 'ngram' },
  bus: { partitions: 4, partitionCapacity: 50_000 },
  forward: { host: '127.0.0.1', port: 24224 },
  calico: { flowLogFiles: [] },
  prometheus: { targets: [], scrapeIntervalMs: 15_000 },
  analyzer: {
    logWarmupRecords: 1_000,
    metricWarmupPoints: 50,
    metricMaxSeries: 100_000,
    modelRetrainIntervalMs: 6 * 3_600_000,
    modelHistoryMs: 24 * 3_600_000,
    modelMinRows: 200,
    modelMaxWorkloads: 500,
    modelForecastSteps: 4,
    modelForecastMinRisePercent: 20,
    incidentWindowMs: 5 * 60_000,
    incidentQuietMs: 10 * 60_000,
    incidentReopenMs: 0,
  },
  alerts: {},
  remediation: {},
  kube: { metricsIntervalMs: 15_000, metricsPaths: ['/metrics/resource', '/metrics/cadvisor'] },
  writer: {
    group: 'argus-writer',
    maxBatchRows: 200_000,
    maxWaitMs: 500,
    minBatchBytes: 4 * 1024 * 1024,
    maxInFlightInserts: 4,
  },
  kafka: {
    brokers: [],
    clientId: 'argus',
    partitions: 6,
    replicationFactor: 1,
    retentionHours: 24,
    compression: 'snappy',
  },
  sim: { mode: 'auto', seed: 42, stepMs: 10_000, faultIntervalMs: 5 * 60_000, faultDurationMs: 3 * 60_000 },
}

type EnvType = 'string' | 'integer' | 'list'
/** Environment variables, each mapped to one config field; documented in the README's configuration table. */
export const ENV_VARS: ReadonlyArray<{ name: string; path: string; type: EnvType; secret?: boolean }> = [
  { name: 'ARGUS_ROLES', path: 'roles', type: 'list' },
  { name: 'ARGUS_CLUSTER', path: 'cluster', type: 'string' },
  { name: 'ARGUS_DATA_DIR', path: 'dataDir', type: 'string' },
  { name: 'ARGUS_LOG_LEVEL', path: 'log.level', type: 'string' },
  { name: 'ARGUS_HTTP_HOST', path: 'http.host', type: 'string' },
  { name: 'ARGUS_HTTP_PORT', path: 'http.port', type: 'integer' },
  { name: 'ARGUS_HTTP_BODY_LIMIT_BYTES', path: 'http.bodyLimitBytes', type: 'integer' },
  { name: 'ARGUS_HTTP_PUBLISH_TIMEOUT_MS', path: 'http.publishTimeoutMs', type: 'integer' },
  { name: 'CLICKHOUSE_URL', path: 'clickhouse.url', type: 'string' },
  { name: 'CLICKHOUSE_USER', path: 'clickhouse.username', type: 'string' },
  { name: 'CLICKHOUSE_PASSWORD', path: 'clickhouse.password', type: 'string', secret: true },
  { name: 'CLICKHOUSE_DATABASE', path: 'clickhouse.database', type: 'string' },
  { name: 'ARGUS_SIGNAL_RETENTION_DAYS', path: 'clickhouse.signalRetentionDays', type: 'integer' },
  { name: 'ARGUS_FINDING_RETENTION_DAYS', path: 'clickhouse.findingRetentionDays', type: 'integer' },
  { name: 'ARGUS_LOG_TEXT_INDEX', path: 'clickhouse.logTextIndex', type: 'string' },
  { name: 'ARGUS_BUS_PARTITIONS', path: 'bus.partitions', type: 'integer' },
  { name: 'ARGUS_FORWARD_HOST', path: 'forward.host', type: 'string' },
  { name: 'ARGUS_FORWARD_PORT', path: 'forward.port', type: 'integer' },
  { name: 'ARGUS_FORWARD_SHARED_KEY', path: 'forward.sharedKey', type: 'string', secret: true },
  { name: 'ARGUS_CALICO_FLOW_LOG_FILES', path: 'calico.flowLogFiles', type: 'list' },
  { name: 'ARGUS_PROMETHEUS_TARGETS', path: 'prometheus.targets', type: 'list' },
  { name: 'ARGUS_PROMETHEUS_SCRAPE_INTERVAL_MS', path: 'prometheus.scrapeIntervalMs', type: 'integer' },
  { name: 'ARGUS_ANALYZER_LOG_WARMUP_RECORDS', path: 'analyzer.logWarmupRecords', type: 'integer' },
  { name: 'ARGUS_ANALYZER_METRIC_WARMUP_POINTS', path: 'analyzer.metricWarmupPoints', type: 'integer' },
  { name: 'ARGUS_ANALYZER_METRIC_MAX_SERIES', path: 'analyzer.metricMaxSeries', type: 'integer' },
  {
    name: 'ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS',
    path: 'analyzer.modelRetrainIntervalMs',
    type: 'integer',
  },
  { name: 'ARGUS_ANALYZER_MODEL_HISTORY_MS', path: 'analyzer.modelHistoryMs', type: 'integer' },
  { name: 'ARGUS_ANALYZER_MODEL_MIN_ROWS', path: 'analyzer.modelMinRows', type: 'integer' },
  { name: 'ARGUS_ANALYZER_MODEL_MAX_WORKLOADS', path: 'analyzer.modelMaxWorkloads', type: 'integer' },
  { name: 'ARGUS_ANALYZER_MODEL_FORECAST_STEPS', path: 'analyzer.modelForecastSteps', type: 'integer' },
  {
    name: 'ARGUS_ANALYZER_MODEL_FORECAST_MIN_RISE_PERCENT',
    path: 'analyzer.modelForecastMinRisePercent',
    type: 'integer',
  },
  { name: 'ARGUS_ANALYZER_INCIDENT_WINDOW_MS', path: 'analyzer.incidentWindowMs', type: 'integer' },
  { name: 'ARGUS_ANALYZER_INCIDENT_QUIET_MS', path: 'analyzer.incidentQuietMs', type: 'integer' },
  { name: 'ARGUS_ANALYZER_INCIDENT_REOPEN_MS', path: 'analyzer.incidentReopenMs', type: 'integer' },
  { name: 'ARGUS_KUBE_METRICS_INTERVAL_MS', path: 'kube.metricsIntervalMs', type: 'integer' },
  { name: 'ARGUS_KUBE_METRICS_PATHS', path: 'kube.metricsPaths', type: 'list' },
  { name: 'ARGUS_ALERTS_CONFIG', path: 'alerts.configFile', type: 'string' },
  { name: 'ARGUS_EXTERNAL_URL', path: 'alerts.externalUrl', type: 'string' },
  { name: 'ARGUS_REMEDIATION_CONFIG', path: 'remediation.configFile', type: 'string' },
  { name: 'ARGUS_BUS_PARTITION_CAPACITY', path: 'bus.partitionCapacity', type: 'integer' },
  { name: 'ARGUS_WRITER_GROUP', path: 'writer.group', type: 'string' },
  { name: 'ARGUS_WRITER_MAX_BATCH_ROWS', path: 'writer.maxBatchRows', type: 'integer' },
  { name: 'ARGUS_WRITER_MAX_WAIT_MS', path: 'writer.maxWaitMs', type: 'integer' },
  { name: 'ARGUS_WRITER_MIN_BATCH_BYTES', path: 'writer.minBatchBytes', type: 'integer' },
  { name: 'ARGUS_WRITER_MAX_IN_FLIGHT', path: 'writer.maxInFlightInserts', type: 'integer' },
  { name: 'KAFKA_BROKERS', path: 'kafka.brokers', type: 'list' },
  { name: 'KAFKA_CLIENT_ID', path: 'kafka.clientId', type: 'string' },
  { name: 'KAFKA_PARTITIONS', path: 'kafka.partitions', type: 'integer' },
  { name: 'KAFKA_REPLICATION_FACTOR', path: 'kafka.replicationFactor', type: 'integer' },
  { name: 'KAFKA_RETENTION_HOURS', path: 'kafka.retentionHours', type: 'integer' },
  { name: 'KAFKA_COMPRESSION', path: 'kafka.compression', type: 'string' },
  { name: 'ARGUS_SIM', path: 'sim.mode', type: 'string' },
  { name: 'ARGUS_SIM_SEED', path: 'sim.seed', type: 'integer' },
  { name: 'ARGUS_SIM_STEP_MS', path: 'sim.stepMs', type: 'integer' },
  { name: 'ARGUS_SIM_FAULT_INTERVAL_MS', path: 'sim.faultIntervalMs', type: 'integer' },
  { name: 'ARGUS_SIM_FAULT_DURATION_MS', path: 'sim.faultDurationMs', type: 'integer' },
]

const validator = Compile(ConfigSchema)

type PlainObject = Record<string, unknown>
const isPlainObject = (value: unknown): value is PlainObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function deepMerge(base: PlainObject, override: PlainObject): PlainObject {
  const out: PlainObject = { ...base }
  for (const [key, value] of Object.entries(override)) {
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value
  }
  return out
}

function setPath(target: PlainObject, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    if (!isPlainObject(next)) node[key] = {}
    node = node[key] as PlainObject
  }
  node[keys[keys.length - 1] as string] = value
}

function fromEnv(env: NodeJS.ProcessEnv): PlainObject {
  const out: PlainObject = {}
  for (const variable of ENV_VARS) {
    const raw = env[variable.name]
    if (raw === undefined || raw === '') continue
    if (variable.type === 'integer') {
      if (!/^-?\d+$/.test(raw.trim())) {
        throw new ArgusError(
          'ARGUS_ERR_CONFIG',
          `${variable.path} (env ${variable.name}) must be an integer, got "${raw}"`,
        )
      }
      setPath(out, variable.path, Number(raw))
    } else if (variable.type === 'list') {
      setPath(
        out,
        variable.path,
        raw
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      )
    } else {
      setPath(out, variable.path, raw)
    }
  }
  return out
}

function readYaml(file: string): PlainObject {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `cannot read config file ${file}: ${errorMessage(error)}`, {
      cause: error,
    })
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text)
  } catch (error) {
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `config file ${file} is not valid YAML: ${errorMessage(error)}`,
      { cause: error },
    )
  }
  if (parsed == null) return {}
  if (!isPlainObject(parsed))
    throw new ArgusError('ARGUS_ERR_CONFIG', `config file ${file} must hold a mapping at the top level`)
  return parsed
}

/** `/http/port` -> `http.port`, so errors name fields as users write them. */
function fieldName(instancePath: string, params: unknown): string {
  const base = instancePath.replace(/^\//, '').replaceAll('/', '.')
  const extra =
    isPlainObject(params) && Array.isArray(params.additionalProperties) ? params.additionalProperties : []
  if (extra.length > 0) return [base, String(extra[0])].filter(Boolean).join('.')
  return base || '(root)'
}

export function validateConfig(candidate: unknown): ArgusConfig {
  if (validator.Check(candidate)) {
    if (candidate.roles.length < ROLES.length && candidate.kafka.brokers.length === 0) {
      throw new ArgusError(
        'ARGUS_ERR_CONFIG',
        `roles: running only ${candidate.roles.join(', ')} needs Kafka (set KAFKA_BROKERS): with the in-process bus no other process can pick up the rest`,
      )
    }
    return candidate
  }
  const errors = [...validator.Errors(candidate)].filter((e) => e.keyword !== 'boolean')
  // A union of literals fails once per literal: say "must be one of a, b" instead.
  const allowed = new Map<string, string[]>()
  for (const e of errors) {
    const value = (e.params as { allowedValue?: unknown }).allowedValue
    if (e.keyword === 'const' && (typeof value === 'string' || typeof value === 'number'))
      allowed.set(e.instancePath, [...(allowed.get(e.instancePath) ?? []), String(value)])
  }
  const problems = errors
    .filter((e) => !(allowed.has(e.instancePath) && (e.keyword === 'const' || e.keyword === 'anyOf')))
    .map((e) =>
      e.keyword === 'additionalProperties'
        ? `${fieldName(e.instancePath, e.params)}: unknown field`
        : `${fieldName(e.instancePath, e.params)}: ${e.message}`,
    )
  for (const [path, values] of allowed)
    problems.push(`${fieldName(path, {})}: must be one of ${values.join(', ')}`)
  throw new ArgusError('ARGUS_ERR_CONFIG', `invalid configuration: ${[...new Set(problems)].join('; ')}`, {
    details: { problems },
  })
}

/** Builds the config: defaults, then the YAML file (`--config` or `ARGUS_CONFIG`), then the environment, then overrides. */
export function loadConfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: PlainObject } = {},
): ArgusConfig {
  const env = options.env ?? process.env
  const file = options.file ?? env.ARGUS_CONFIG
  let merged: PlainObject = structuredClone(DEFAULT_CONFIG)
  if (file) merged = deepMerge(merged, readYaml(file))
  merged = deepMerge(merged, fromEnv(env))
  if (options.overrides) merged = deepMerge(merged, options.overrides)
  return validateConfig(merged)
}

/** The config with secrets replaced, fit to log or serve. */
export function redactConfig(config: ArgusConfig): ArgusConfig {
  const copy = structuredClone(config)
  if (copy.clickhouse.password) copy.clickhouse.password = '[redacted]'
  if (copy.forward.sharedKey) copy.forward.sharedKey = '[redacted]'
  return copy
}
