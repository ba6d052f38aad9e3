import type { Bus } from '../bus/index.js'
import { TOPICS, type Component, type Logger, type LogRecord, type Registry } from '../core/index.js'
import { LogPatternTracker, type LogPatternTrackerOptions } from './log-pattern-tracker.js'
import { createStreamAnalyzer } from './stream-analyzer.js'

export interface LogAnalyzerOptions extends LogPatternTrackerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
}

/**
 * Log pattern anomalies (new templates, rare templates bursting, error surges) per workload. A
 * workload's records share a partition, so one instance sees all of them, in order.
 */
export function createLogAnalyzer(options: LogAnalyzerOptions): Component {
  const tracker = new LogPatternTracker(options)
  return createStreamAnalyzer<LogRecord>({
    ...options,
    name: 'logs',
    group: options.group ?? 'argus-analyzer-logs',
    topics: [TOPICS.logs],
    observe: (record) => tracker.observe(record),
  })
}
