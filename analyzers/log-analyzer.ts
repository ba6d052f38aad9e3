import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  partitionKey,
  type Component,
  type Logger,
  type LogRecord,
  type Registry,
} from '../core/index.js'
import { LogPatternTracker, type LogPatternTrackerOptions } from './log-pattern-tracker.js'

export interface LogAnalyzerOptions extends LogPatternTrackerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
}

/**
 * Log pattern anomalies (new templates, rare templates bursting, error surges) per workload, from
 * the logs topic. Records of a workload share a partition, so one analyzer instance sees all of a
 * workload's lines, in order, however many instances the group has.
 */
export function createLogAnalyzer(options: LogAnalyzerOptions): Component {
  const logger = options.logger.child({ component: 'log-analyzer' })
  const found = counter(
    options.metrics,
    'argus_analyzer_anomalies_total',
    'Anomalies published, by analyzer and kind',
    ['analyzer', 'kind'],
  )
  const tracker = new LogPatternTracker(options)
  let subscription: Subscription | undefined
  return {
    name: 'log-analyzer',
    async start() {
      subscription = await options.bus.subscribe<LogRecord>({
        group: options.group ?? 'argus-analyzer-logs',
        topics: [TOPICS.logs],
        maxBatchSize: 5_000,
        handler: async (batch) => {
          const anomalies = batch.messages.flatMap((m) => tracker.observe(m.value))
          if (anomalies.length === 0) return
          await options.bus.publish(
            TOPICS.anomalies,
            anomalies.map((a) => ({ key: partitionKey(a), value: a })),
          )
          for (const a of anomalies) found.inc({ analyzer: 'logs', kind: a.kind })
        },
      })
      logger.info('analyzing log patterns')
    },
    async stop() {
      await subscription?.stop()
    },
  }
}
