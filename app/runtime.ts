import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import {
  createMetricsRegistry,
  TOPICS,
  type ArgusConfig,
  type Component,
  type Role,
  type Logger,
  type Registry,
} from '../core/index.js'
import { createInProcessBus, createKafkaBus, type Bus, type Subscription } from '../bus/index.js'
import { createStorage, PERSISTED_TOPICS, type Storage } from '../storage/index.js'
import {
  createKubeCollector,
  createFluentForwardServer,
  createKubeletScraper,
  createRawIntake,
  fluentHttpSource,
  remoteWriteSource,
  createRemoteWriteThread,
  calicoHttpSource,
  alertmanagerSource,
  createFlowLogTailer,
  createPrometheusScraper,
} from '../ingest/index.js'
import { describeKubeConfig, findKubeConfig, loadKubeConfig } from '../kube/index.js'
import { createApiServer } from '../api/index.js'
import {
  createTemplateMiningThread,
  createFlowAnalyzer,
  createKubeAnalyzer,
  createLogAnalyzer,
  createMetricAnalyzer,
  createWorkloadModelTrainer,
  createIncidentAnalyzer,
  WorkloadModelScorer,
} from '../analyzers/index.js'
import { ModelStore, WindowForecaster, loadTensorflow } from '../models/index.js'
import { createAdHocAnalysis } from './ad-hoc-analysis.js'
import { loadAlertConfig } from '../alerts/alert-config.js'
import { createIncidentAlerter } from '../alerts/incident-alerter.js'
import { createSilenceService } from './silence-service.js'
import { loadRemediationConfig } from '../remediation/policy-config.js'
import { createRemediator } from '../remediation/remediator.js'
import { createKubeExecutor } from '../remediation/kube-executor.js'
import { createStorageOutageGuard } from './storage-outage-guard.js'
import { createDemoCluster } from './demo-cluster.js'

/**
 * A metric point in a MetricBatch takes about 30 bytes (three numbers; its series is shared with
 * the batch's other points), a log record or a sample object ten to thirty times that: the batch
 * topic's partitions hold this many times the records in no more memory. The writer's blocks grow
 * with it, and embedded ClickHouse's rollup costs less per point in larger blocks (1.9 µs in 70k-
 * point blocks, 1.3 in 200k). remote_write, default against 4x: 173-192k -> 242-262k samples/s.
 */
const METRIC_POINTS_PER_RECORD = 4

export interface Runtime extends Component {
  readonly config: ArgusConfig
  readonly bus: Bus
  readonly storage: Storage
  readonly metrics: Registry
  /** Whether this process runs the simulated demo cluster. */
  readonly simulated: boolean
  /** The address the API listens on, once started. */
  readonly url: string
  /** The Forward protocol port, when this process receives it. */
  readonly forwardPort: number | undefined
}

/**
 * All roles in one process on the embedded default: HTTP intake -> in-process bus -> storage
 * writer -> ClickHouse, and the API reading storage. Stops in the reverse order of the data:
 * intake first, then the bus drains into storage, then storage closes.
 */
export function createRuntime(config: ArgusConfig, logger: Logger): Runtime {
  const metrics = createMetricsRegistry()
  const bus: Bus =
    config.kafka.brokers.length > 0
      ? createKafkaBus({
          brokers: config.kafka.brokers,
          clientId: config.kafka.clientId,
          logger,
          metrics,
          topics: {
            partitions: config.kafka.partitions,
            replicationFactor: config.kafka.replicationFactor,
            retentionMs: config.kafka.retentionHours * 3_600_000,
            compression: config.kafka.compression,
          },
          defaultPublishTimeoutMs: config.http.publishTimeoutMs,
        })
      : createInProcessBus({
          logger: logger.child({ component: 'bus' }),
          metrics,
          partitions: config.bus.partitions,
          partitionCapacity: config.bus.partitionCapacity,
          topicCapacity: {
            [TOPICS.metricBatches]: METRIC_POINTS_PER_RECORD * config.bus.partitionCapacity,
          },
          defaultPublishTimeoutMs: config.http.publishTimeoutMs,
        })
  const storage = createStorage({
    target: {
      url: config.clickhouse.url,
      username: config.clickhouse.username,
      password: config.clickhouse.password,
      dataDir: config.dataDir,
    },
    database: config.clickhouse.database,
    retention: {
      signals: config.clickhouse.signalRetentionDays,
      findings: config.clickhouse.findingRetentionDays,
    },
    logTextIndex: config.clickhouse.logTextIndex,
    maxInFlightInserts: config.writer.maxInFlightInserts,
    logger,
    metrics,
  })
  const has = (role: Role): boolean => config.roles.includes(role)
  // Learned workload models: scored wherever metrics are analysed; retrained where the stored
  // history is at hand (this process writes it, or ClickHouse is a shared server).
  const modelStore =
    has('analyzer') && config.analyzer.modelRetrainIntervalMs > 0
      ? new ModelStore({
          dir: join(config.dataDir, 'models'),
          tensorflow: async () => (await loadTensorflow()).tf,
        })
      : undefined
  const modelScorer = modelStore ? new WorkloadModelScorer({ store: modelStore, logger }) : undefined
  const modelTrainer =
    modelStore && modelScorer && (has('writer') || config.clickhouse.url !== undefined)
      ? createWorkloadModelTrainer({
          store: modelStore,
          scorer: modelScorer,
          history: { workloadSamples: (query) => storage.metricHistory.workloadSamples(query) },
          train: async (features, rows) =>
            WindowForecaster.train((await loadTensorflow()).tf, features, rows, { window: 12, epochs: 30 }),
          logger,
          metrics,
          intervalMs: config.analyzer.modelRetrainIntervalMs,
          historyMs: config.analyzer.modelHistoryMs,
          minRows: config.analyzer.modelMinRows,
          maxWorkloads: config.analyzer.modelMaxWorkloads,
        })
      : undefined
  // The alerter reads the silences made while it was away.
  const usesStorage =
    has('writer') ||
    has('api') ||
    modelTrainer !== undefined ||
    (has('analyzer') && !!config.alerts.configFile)
  // Every log record gets its template id before it is published, so it is stored with it.
  const templateMining = createTemplateMiningThread({ logger, metrics })
  const remoteWriteDecoding = createRemoteWriteThread({ cluster: config.cluster, logger, metrics })
  const intake = createRawIntake({
    bus,
    logger,
    metrics,
    cluster: config.cluster,
    publishTimeoutMs: config.http.publishTimeoutMs,
    annotateLogs: async (records) => {
      const ids = await templateMining.templateIds(records.map((record) => record.message))
      records.forEach((record, i) => (record.templateId = ids[i]))
    },
    decodeRemoteWrite: (body, maxUncompressedBytes) => remoteWriteDecoding.decode(body, maxUncompressedBytes),
  })
  const kubeConfig = findKubeConfig()
  // Read once: the collector and the kubelet scraper share one connection setup.
  const kube = has('collector') && kubeConfig !== undefined ? loadKubeConfig(kubeConfig) : undefined
  const simulated =
    has('collector') && (config.sim.mode === 'on' || (config.sim.mode === 'auto' && kubeConfig === undefined))
  const demo = simulated
    ? createDemoCluster({ config: config.sim, cluster: config.cluster, intake, logger })
    : undefined
  // A configured cluster is watched whenever this process collects (next to the demo if ARGUS_SIM=on).
  const kubeCollector = kube
    ? createKubeCollector({
        config: kube,
        cluster: config.cluster,
        intake,
        logger,
        metrics,
        checkpointFile: join(config.dataDir, 'kube-checkpoints.json'),
      })
    : undefined
  const forwardServer =
    has('collector') && config.forward.port >= 0
      ? createFluentForwardServer({
          intake,
          logger,
          metrics,
          host: config.forward.host,
          port: config.forward.port,
          ...(config.forward.sharedKey && { sharedKey: config.forward.sharedKey }),
        })
      : undefined
  const flowLogTailer =
    has('collector') && config.calico.flowLogFiles.length > 0
      ? createFlowLogTailer({
          intake,
          logger,
          metrics,
          files: config.calico.flowLogFiles,
          positionsFile: join(config.dataDir, 'flow-log-positions.json'),
        })
      : undefined
  const prometheusScraper =
    has('collector') && config.prometheus.targets.length > 0
      ? createPrometheusScraper({
          intake,
          logger,
          metrics,
          targets: config.prometheus.targets.map((url) => ({ url })),
          intervalMs: config.prometheus.scrapeIntervalMs,
        })
      : undefined
  const analyzers = has('analyzer')
    ? [
        createKubeAnalyzer({ bus, logger, metrics }),
        createLogAnalyzer({ bus, logger, metrics, warmupRecords: config.analyzer.logWarmupRecords }),
        createFlowAnalyzer({ bus, logger, metrics }),
        createMetricAnalyzer({
          bus,
          logger,
          metrics,
          warmupPoints: config.analyzer.metricWarmupPoints,
          maxSeries: config.analyzer.metricMaxSeries,
          ...(modelScorer && {
            scorer: modelScorer,
            forecasts: {
              steps: config.analyzer.modelForecastSteps,
              minRise: config.analyzer.modelForecastMinRisePercent / 100,
            },
          }),
        }),
        ...(modelTrainer ? [modelTrainer] : []),
        createIncidentAnalyzer({
          bus,
          logger,
          metrics,
          windowMs: config.analyzer.incidentWindowMs,
          quietMs: config.analyzer.incidentQuietMs,
          reopenMs: config.analyzer.incidentReopenMs,
        }),
        // Read and validated here, so a broken alerting file stops the start with its reason.
        ...(config.alerts.configFile
          ? [
              createIncidentAlerter({
                bus,
                logger,
                metrics,
                config: loadAlertConfig(config.alerts.configFile),
                externalUrl: config.alerts.externalUrl ?? `http://${config.http.host}:${config.http.port}`,
                loadSilences: () => storage.alerts.silences(),
              }),
            ]
          : []),
      ]
    : []
  const kubeletScraper =
    kube && kubeCollector && config.kube.metricsIntervalMs > 0
      ? createKubeletScraper({
          config: kube,
          intake,
          logger,
          metrics,
          nodes: () => kubeCollector.readyNodes(),
          intervalMs: config.kube.metricsIntervalMs,
          paths: config.kube.metricsPaths,
        })
      : undefined
  /** What feeds the intake besides HTTP, in start order (stopped in reverse: the scraper before the collector it asks). */
  // Remediation acts on a real cluster only; read and validated here so a broken file stops the start.
  const remediationConfig =
    has('remediator') && config.remediation.configFile
      ? loadRemediationConfig(config.remediation.configFile)
      : undefined
  if (remediationConfig && kubeConfig === undefined)
    logger.warn(
      'remediation policies are configured but no Kubernetes cluster is: the remediator does not run',
    )
  const remediator =
    remediationConfig && kubeConfig !== undefined
      ? createRemediator({
          bus,
          logger,
          metrics,
          config: remediationConfig,
          executor: createKubeExecutor(kube ?? loadKubeConfig(kubeConfig)),
        })
      : undefined
  if (remediator) analyzers.push(remediator)
  const sources = [forwardServer, flowLogTailer, prometheusScraper, kubeCollector, kubeletScraper].filter(
    (source): source is NonNullable<typeof source> => source !== undefined,
  )
  let server: FastifyInstance | undefined
  let writerSubscription: Subscription | undefined
  const outageGuard = createStorageOutageGuard({
    subscription: () => writerSubscription,
    ping: () => storage.ping(),
    logger,
    probeEveryMs: 1_000,
  })
  let shuttingDown = false
  let url = ''
  let state: 'new' | 'started' | 'stopped' = 'new'

  return {
    name: 'argus',
    config,
    bus,
    storage,
    metrics,
    simulated,
    get forwardPort() {
      return forwardServer?.port
    },
    get url() {
      return url
    },
    async start() {
      if (state !== 'new') return
      state = 'started'
      await bus.start()
      if (usesStorage) await storage.start()
      if (has('collector')) {
        await templateMining.start()
        await remoteWriteDecoding.start()
      }
      if (has('writer'))
        writerSubscription = await bus.subscribe({
          group: config.writer.group,
          topics: PERSISTED_TOPICS,
          maxBatchSize: config.writer.maxBatchRows,
          maxWaitMs: config.writer.maxWaitMs,
          minBatchBytes: config.writer.minBatchBytes,
          // Storage outages are waited out, never turned into loss; refused rows go to the dead-letter topic.
          retry: { maxAttempts: Infinity, initialDelayMs: 500, maxDelayMs: 30_000 },
          handler: (batch) =>
            storage.writer
              .write(
                batch.topic,
                batch.messages,
                batch.dedupToken,
                batch.durableOffsetSource
                  ? {
                      source: batch.durableOffsetSource,
                      partition: batch.partition,
                      generation: batch.assignmentGeneration ?? 0,
                    }
                  : undefined,
              )
              .catch((error: unknown) => {
                outageGuard.observe(error)
                throw error
              }),
        })
      server = await createApiServer({
        logger,
        metrics,
        bodyLimitBytes: config.http.bodyLimitBytes,
        isShuttingDown: () => shuttingDown,
        readiness: usesStorage ? [{ name: 'storage', check: () => storage.ping() }] : [],
        ...(has('api') && {
          logs: () => storage.logs,
          countSignals: (range) => storage.countSignals(range),
          topology: () => storage.topology,
          anomalies: () => storage.anomalies,
          incidents: () => storage.incidents,
          analyze: createAdHocAnalysis(() => storage),
          alerts: () => storage.alerts,
          silences: createSilenceService({ storage: () => storage, bus }),
          actions: () => storage.actions,
          sendRemediationCommand: async (command) => {
            await bus.publish(TOPICS.remediationCommands, [{ key: command.type, value: command }])
          },
        }),
        plugins: has('collector')
          ? [
              fluentHttpSource({
                intake,
                metrics,
                bodyLimitBytes: config.http.bodyLimitBytes,
                resendWaitMs: config.http.publishTimeoutMs,
              }),
              remoteWriteSource({ intake, metrics, bodyLimitBytes: config.http.bodyLimitBytes }),
              calicoHttpSource({ intake, metrics, bodyLimitBytes: config.http.bodyLimitBytes }),
              alertmanagerSource({ intake, metrics }),
            ]
          : [],
      })
      url = await server.listen({ host: config.http.host, port: config.http.port })
      if (demo) {
        const interval = config.sim.faultIntervalMs
        const every =
          interval >= 60_000 ? `${Math.round(interval / 60_000)} min` : `${Math.round(interval / 1000)} s`
        logger.warn(
          `no Kubernetes cluster configured: running on a SIMULATED cluster (a 12-service shop on 4 nodes) in demo mode; a fault is injected every ${every}. Set ARGUS_SIM=off to turn it off.`,
        )
        await demo.start()
      } else if (config.sim.mode === 'auto' && kubeConfig) {
        logger.info(
          { kubeConfig: describeKubeConfig(kubeConfig) },
          'Kubernetes configuration found; the simulated cluster is off (ARGUS_SIM=on runs it anyway)',
        )
      }
      for (const analyzer of analyzers) await analyzer.start()
      for (const source of sources) await source.start()
    },
    async stop() {
      if (state !== 'started') return
      state = 'stopped'
      shuttingDown = true
      await demo?.stop()
      for (const source of [...sources].reverse()) await source.stop()
      await server?.close() // stop intake; in-flight requests finish
      await templateMining.stop()
      await remoteWriteDecoding.stop()
      const drained = await bus.drain(30_000)
      if (!drained) logger.warn('shutdown: bus did not drain within 30 s')
      // The analyzer's last anomalies are on the bus now; let the writer take them too.
      for (const analyzer of analyzers) await analyzer.stop()
      if (analyzers.length > 0) await bus.drain(5_000)
      outageGuard.stop()
      await writerSubscription?.stop()
      await bus.stop()
      if (usesStorage) await storage.stop()
    },
  }
}
