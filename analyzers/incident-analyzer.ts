import { randomUUID } from 'node:crypto'
import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  errorMessage,
  gauge,
  type Anomaly,
  type Component,
  type Logger,
  type NetworkFlow,
  type Registry,
  type ResourceChange,
  type Action,
} from '../core/index.js'
import {
  IncidentCorrelator,
  type CorrelationOutput,
  type IncidentCorrelatorOptions,
} from './incident-correlator.js'
import { ServiceGraph } from './service-graph.js'

export interface IncidentAnalyzerOptions extends IncidentCorrelatorOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
  /** How often quiet incidents are checked for resolution when nothing arrives (default 5 s). */
  tickMs?: number
}

/**
 * Anomalies, changes and flows in; incidents (new versions as they change) and their root-cause
 * rankings out. Anomalies arrive keyed by cluster, so one member of the group correlates all of a
 * cluster's; every member reads all changes and flows (its own group) for the context.
 */
export function createIncidentAnalyzer(options: IncidentAnalyzerOptions): Component & {
  readonly correlator: IncidentCorrelator
  readonly graph: ServiceGraph
} {
  const logger = options.logger.child({ component: 'incident-analyzer' })
  const graph = new ServiceGraph()
  const correlator = new IncidentCorrelator(graph, options)
  const published = counter(
    options.metrics,
    'argus_incidents_published_total',
    'Incident versions published, by status',
    ['status'],
  )
  const open = gauge(options.metrics, 'argus_incidents_open', 'Incidents open now')
  // Stream time: the newest event's time, moved on by the wall clock while nothing arrives.
  let eventTs = 0
  let eventWall = 0
  const now = (): number => (eventTs === 0 ? Date.now() : eventTs + (Date.now() - eventWall))
  let subscription: Subscription | undefined
  let context: Subscription | undefined
  let timer: NodeJS.Timeout | undefined
  let chain: Promise<void> = Promise.resolve()

  async function publish(output: CorrelationOutput): Promise<void> {
    if (output.incidents.length > 0)
      await options.bus.publish(
        TOPICS.incidents,
        output.incidents.map((i) => ({ key: `${i.cluster}/${i.id}`, value: i })),
      )
    if (output.rootCauses.length > 0)
      await options.bus.publish(
        TOPICS.rootCauses,
        output.rootCauses.map((r) => ({ key: `${r.cluster}/${r.incidentId}`, value: r })),
      )
    for (const i of output.incidents) published.inc({ status: i.status })
    open.set(correlator.openCount)
  }

  /** Flushes run one at a time, whether a batch or the timer asked. */
  const flush = (): Promise<void> => (chain = chain.then(() => publish(correlator.flush(now()))))

  return {
    name: 'incident-analyzer',
    correlator,
    graph,
    async start() {
      const seen = (ts: number): void => {
        if (ts > eventTs) {
          eventTs = ts
          eventWall = Date.now()
        }
      }
      // Context every instance needs whole: the changes and the flow graph, each instance its own
      // group (so Kafka gives it every partition), from now on.
      context = await options.bus.subscribe<ResourceChange | NetworkFlow | Action>({
        group: `${options.group ?? 'argus-analyzer-incidents'}-context-${randomUUID()}`,
        topics: [TOPICS.resourceChanges, TOPICS.flows, TOPICS.actions],
        fromBeginning: false,
        maxBatchSize: 5_000,
        handler: async (batch) => {
          let fixed = false
          for (const { value } of batch.messages) {
            if (batch.topic === TOPICS.flows) graph.observeFlow(value as NetworkFlow)
            else if (batch.topic === TOPICS.actions) {
              // A remediation verified as working ends its incident (the instance holding it answers).
              const action = value as Action
              if (action.incidentId && action.attributes?.verification === 'succeeded')
                fixed =
                  correlator.resolveFixed(
                    action.incidentId,
                    now(),
                    `${action.kind} by policy ${action.policy ?? ''}`,
                  ) || fixed
            } else correlator.observeChange(value as ResourceChange)
          }
          if (fixed) await flush()
          // A change may explain an open incident: its ranking is published again.
          if (batch.topic === TOPICS.resourceChanges) await flush()
        },
      })
      // Anomalies are keyed by cluster: the group gives each cluster's to one instance.
      subscription = await options.bus.subscribe<Anomaly>({
        group: options.group ?? 'argus-analyzer-incidents',
        topics: [TOPICS.anomalies],
        maxBatchSize: 5_000,
        handler: async (batch) => {
          for (const { value } of batch.messages) {
            correlator.observeAnomaly(value)
            seen(value.ts)
          }
          await flush()
        },
      })
      timer = setInterval(() => {
        flush().catch((error: unknown) =>
          logger.warn(
            { err: error, reason: errorMessage(error) },
            'incident update not published; retried next tick',
          ),
        )
      }, options.tickMs ?? 5_000)
      timer.unref()
      logger.info('correlating anomalies into incidents')
    },
    async stop() {
      if (timer) clearInterval(timer)
      await subscription?.stop()
      await context?.stop()
      await chain.catch(() => undefined)
    },
  }
}
