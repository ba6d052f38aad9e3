import type { Bus } from '../bus/index.js'
import {
  TOPICS,
  counter,
  gauge,
  type Component,
  type Logger,
  type MetricSample,
  type Registry,
} from '../core/index.js'
import { MetricIndicators } from './metric-indicators.js'
import { MetricSeriesTracker } from './metric-series-tracker.js'
import { createStreamAnalyzer } from './stream-analyzer.js'

export interface MetricAnalyzerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
  /** Points a series needs before it can alarm. */
  warmupPoints?: number
  /** Indicator series scored at most (memory bound); pods tracked at most is half of it. */
  maxSeries?: number
}

/**
 * Metric anomalies per pod and per workload: raw samples become indicators (CPU, memory against
 * the limit, throttling, traffic, request rate, error ratio, latency), each scored by its own
 * streaming detector. A workload's samples share a partition, so one instance sees all its pods.
 */
export function createMetricAnalyzer(options: MetricAnalyzerOptions): Component {
  const maxSeries = options.maxSeries ?? 100_000
  const indicators = new MetricIndicators({ maxPods: Math.max(1, Math.floor(maxSeries / 2)) })
  const tracker = new MetricSeriesTracker({
    maxSeries,
    ...(options.warmupPoints !== undefined && { warmupPoints: options.warmupPoints }),
  })
  const logger = options.logger.child({ component: 'metrics-analyzer' })
  const tracked = gauge(
    options.metrics,
    'argus_analyzer_metric_series',
    'Metric indicator series being scored',
  )
  const untracked = counter(
    options.metrics,
    'argus_analyzer_metric_untracked_total',
    'Points not scored because the series or pod limit was reached (ARGUS_ANALYZER_METRIC_MAX_SERIES)',
  )
  let counted = 0
  return createStreamAnalyzer<MetricSample>({
    ...options,
    name: 'metrics',
    group: options.group ?? 'argus-analyzer-metrics',
    topics: [TOPICS.metrics],
    observe: (sample) => {
      indicators.add(sample)
      return []
    },
    flush: () => {
      const found = indicators.flush().flatMap((point) => tracker.observe(point) ?? [])
      tracked.set(tracker.size)
      const skipped = indicators.untracked + tracker.untracked
      if (skipped > counted) {
        if (counted === 0)
          logger.warn({ maxSeries }, 'metric series limit reached: further series are not scored (counted)')
        untracked.inc(skipped - counted)
        counted = skipped
      }
      return found
    },
  })
}
