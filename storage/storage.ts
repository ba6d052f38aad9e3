import { ArgusError, retry, type Component, type Logger, type Registry } from '../core/index.js'
import { openClickHouse, type ClickHouseTarget, type StorageClientHandle } from './clickhouse-client.js'
import { createLogRepository, type LogRepository } from './log-repository.js'
import { createTopologyRepository, type TopologyRepository } from './topology-repository.js'
import { createAnomalyRepository, type AnomalyRepository } from './anomaly-repository.js'
import { createMetricRepository, type MetricRepository } from './metric-repository.js'
import { createIncidentRepository, type IncidentRepository } from './incident-repository.js'
import { createChangeRepository, type ChangeRepository } from './change-repository.js'
import { createAlertRepository, type AlertRepository } from './alert-repository.js'
import { createActionRepository, type ActionRepository } from './action-repository.js'
import { migrate, type RetentionDays } from './migrator.js'
import { logInsertSettings, type LogTextIndex } from './log-text-index.js'
import { TABLES } from './tables.js'
import { applyTableSettings } from './table-settings.js'
import { createTopicWriter, type TopicWriter } from './topic-writer.js'
import { countSignals, type SignalCounts } from './signal-counts.js'

export interface StorageOptions {
  target: ClickHouseTarget
  database: string
  retention: RetentionDays
  /** Whether log lines carry an n-gram index for text search (default: they do). */
  logTextIndex?: LogTextIndex
  maxInFlightInserts: number
  logger: Logger
  metrics: Registry
}

export interface Storage extends Component {
  readonly embedded: boolean
  readonly writer: TopicWriter
  readonly logs: LogRepository
  readonly topology: TopologyRepository
  readonly anomalies: AnomalyRepository
  readonly metricHistory: MetricRepository
  readonly incidents: IncidentRepository
  readonly changes: ChangeRepository
  readonly alerts: AlertRepository
  readonly actions: ActionRepository
  countSignals(range: { fromTs: number; toTs: number }): Promise<SignalCounts>
  /** True when ClickHouse answers; for readiness checks. */
  ping(): Promise<boolean>
}

/** ClickHouse storage: opens the client, migrates, and hands out the writer and read repositories. */
export function createStorage(options: StorageOptions): Storage {
  const logger = options.logger.child({ component: 'storage' })
  let handle: StorageClientHandle | undefined
  let writer: TopicWriter | undefined
  let logs: LogRepository | undefined
  let topology: TopologyRepository | undefined
  let anomalies: AnomalyRepository | undefined
  let metricHistory: MetricRepository | undefined
  let incidents: IncidentRepository | undefined
  let changes: ChangeRepository | undefined
  let alerts: AlertRepository | undefined
  let actions: ActionRepository | undefined
  let starting: Promise<void> | undefined

  const started = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new ArgusError('ARGUS_ERR_STOPPED', 'storage is not started', { retriable: true })
    return value
  }

  return {
    name: 'storage',
    get embedded() {
      return !options.target.url
    },
    get writer() {
      return started(writer)
    },
    get logs() {
      return started(logs)
    },
    get topology() {
      return started(topology)
    },
    get anomalies() {
      return started(anomalies)
    },
    get metricHistory() {
      return started(metricHistory)
    },
    get incidents() {
      return started(incidents)
    },
    get changes() {
      return started(changes)
    },
    get alerts() {
      return started(alerts)
    },
    get actions() {
      return started(actions)
    },
    start() {
      starting ??= (async () => {
        handle = openClickHouse(options.target)
        const client = handle.client
        // A ClickHouse server may still be starting (compose, Kubernetes): retry migrations for a while.
        await retry(() => migrate(client, options.database, logger), {
          maxAttempts: handle.embedded ? 1 : 10,
          initialDelayMs: 500,
          maxDelayMs: 5_000,
          onRetry: ({ attempt, error }) =>
            logger.warn({ attempt, err: error }, 'ClickHouse not ready; retrying'),
        })
        const logTextIndex = options.logTextIndex ?? 'ngram'
        await applyTableSettings(
          client,
          options.database,
          { retention: options.retention, logTextIndex },
          logger,
        )
        writer = createTopicWriter({
          client,
          insertRows: handle.insertRows,
          database: options.database,
          logger,
          metrics: options.metrics,
          maxInFlight: options.maxInFlightInserts,
          insertSettings: { [TABLES.logIntake]: await logInsertSettings(client, logTextIndex) },
        })
        logs = createLogRepository(client, options.database)
        topology = createTopologyRepository(client, options.database)
        anomalies = createAnomalyRepository(client, options.database)
        metricHistory = createMetricRepository(client, options.database)
        incidents = createIncidentRepository(client, options.database)
        changes = createChangeRepository(client, options.database)
        alerts = createAlertRepository(client, options.database)
        actions = createActionRepository(client, options.database)
        logger.info({ embedded: handle.embedded, database: options.database }, 'storage ready')
      })()
      return starting
    },
    countSignals(range) {
      return countSignals(started(handle).client, options.database, range)
    },
    async ping() {
      if (!handle) return false
      try {
        return (await handle.client.ping()).success
      } catch {
        return false
      }
    },
    async stop() {
      if (!starting) return
      await starting.catch(() => undefined)
      starting = undefined
      await writer?.stop()
      await handle?.release()
      handle = undefined
      writer = undefined
      logs = undefined
      topology = undefined
      anomalies = undefined
      metricHistory = undefined
      incidents = undefined
      changes = undefined
      alerts = undefined
      actions = undefined
    },
  }
}
