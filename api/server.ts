import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify'
import swagger from '@fastify/swagger'
import type { Logger, Registry, RemediationCommand } from '../core/index.js'
import type {
  ActionRepository,
  AlertRepository,
  AnomalyRepository,
  IncidentRepository,
  LogRepository,
  SignalCounts,
  TopologyRepository,
} from '../storage/index.js'
import { createErrorHandler } from './error-handler.js'
import { healthRoutes, type ReadinessCheck } from './routes/health.js'
import { logRoutes } from './routes/logs.js'
import { signalRoutes } from './routes/signals.js'
import { topologyRoutes } from './routes/topology.js'
import { anomalyRoutes } from './routes/anomalies.js'
import { incidentRoutes } from './routes/incidents.js'
import { analysisRoutes, type Analyze } from './routes/analysis.js'
import { alertRoutes, type SilenceService } from './routes/alerts.js'
import { remediationRoutes } from './routes/remediation.js'

export interface ApiServerOptions {
  logger: Logger
  metrics: Registry
  bodyLimitBytes: number
  readiness: readonly ReadinessCheck[]
  isShuttingDown: () => boolean
  /** Query routes; absent in a process without the api role. */
  logs?: () => LogRepository
  countSignals?: (range: { fromTs: number; toTs: number }) => Promise<SignalCounts>
  topology?: () => TopologyRepository
  anomalies?: () => AnomalyRepository
  incidents?: () => IncidentRepository
  /** Ad-hoc root-cause analysis, composed by the app from the analyzers and storage. */
  analyze?: Analyze
  alerts?: () => AlertRepository
  /** Silences made through the API, composed by the app (storage, then the bus to every alerter). */
  silences?: SilenceService
  actions?: () => ActionRepository
  /** Approvals, rejections and the kill switch, to every remediator over the bus. */
  sendRemediationCommand?: (command: RemediationCommand) => Promise<void>
  /** Route plugins from other stages (ingest sources), registered by the app. */
  plugins?: readonly FastifyPluginAsync[]
}

/** Builds the HTTP server; the caller listens and closes it. */
export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  // Typed as fastify's logger interface so the instance type stays the default one.
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: 'api' })
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Unknown query fields are errors, not silently dropped; numbers in query strings are coerced.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    forceCloseConnections: 'idle',
  })
  app.setErrorHandler(createErrorHandler(options.logger))
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send({ error: { code: 'ARGUS_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}` } })
  })
  await app.register(swagger, {
    openapi: {
      info: { title: 'Argus API', description: 'Event-driven AIOps for Kubernetes', version: '0.1.0' },
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
  await app.register(
    healthRoutes({
      metrics: options.metrics,
      checks: options.readiness,
      isShuttingDown: options.isShuttingDown,
    }),
  )
  if (options.logs) await app.register(logRoutes({ logs: options.logs }))
  if (options.countSignals) await app.register(signalRoutes({ countSignals: options.countSignals }))
  if (options.topology) await app.register(topologyRoutes({ topology: options.topology }))
  if (options.anomalies) await app.register(anomalyRoutes({ anomalies: options.anomalies }))
  if (options.incidents) await app.register(incidentRoutes({ incidents: options.incidents }))
  if (options.alerts && options.silences)
    await app.register(alertRoutes({ alerts: options.alerts, silences: options.silences }))
  if (options.actions && options.sendRemediationCommand)
    await app.register(remediationRoutes({ actions: options.actions, send: options.sendRemediationCommand }))
  if (options.analyze) await app.register(analysisRoutes({ analyze: options.analyze }))
  for (const plugin of options.plugins ?? []) await app.register(plugin)
  return app
}
