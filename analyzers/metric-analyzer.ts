import type { Bus } from '../bus/index.js'
import {
  TOPICS,
  checkMetricBatch,
  counter,
  partitionKey,
  gauge,
  type Anomaly,
  type Component,
  type Logger,
  type MetricBatch,
  type MetricSample,
  type Registry,
  type WorkloadForecast,
} from '../core/index.js'
import { MetricIndicators } from './metric-indicators.js'
import { MetricSeriesTracker } from './metric-series-tracker.js'
import { MODEL_FEATURES, WorkloadFeatureRows, workloadKeyOf } from './workload-features.js'
import type { WorkloadModelScorer } from './workload-model-scorer.js'
import { risingForecasts, type ForecastOptions } from './workload-forecasts.js'
import { createStreamAnalyzer } from './stream-analyzer.js'

/** Samples are scored when a batch is flushed: observing one finds nothing (shared, not one array per sample). */
const NOTHING_YET: readonly Anomaly[] = Object.freeze([])

export interface MetricAnalyzerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
  /** Points a series needs before it can alarm. */
  warmupPoints?: number
  /** Indicator series scored at most (memory bound); pods tracked at most is half of it. */
  maxSeries?: number
  /** Learned workload models, when enabled: their forecasts are one more view for the detectors. */
  scorer?: WorkloadModelScorer
  /** How the models' forecasts become findings for predictive autoscaling (with `scorer`). */
  forecasts?: ForecastOptions
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
  const rows = new WorkloadFeatureRows()
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
  const forecastsTold = counter(
    options.metrics,
    'argus_analyzer_forecasts_total',
    'Rises of load or CPU forecast by workload models',
    ['indicator'],
  )
  let forecasts: WorkloadForecast[] = []
  /** Partitions whose last batch was full: their pods' latest scrape may be half observed. */
  const cut = new Set<number>()
  let counted = 0
  return createStreamAnalyzer<MetricSample | MetricBatch>({
    ...options,
    name: 'metrics',
    group: options.group ?? 'argus-analyzer-metrics',
    topics: [TOPICS.metrics, TOPICS.metricBatches],
    observe: (value, topic, partition) => {
      if (topic === TOPICS.metricBatches) {
        // Its columns are checked before any point is added (its series as they are first routed):
        // a batch whose columns do not line up is dead-lettered whole.
        checkMetricBatch(value as MetricBatch)
        indicators.addBatch(value as MetricBatch, partition)
      } else indicators.add(value as MetricSample, partition)
      return NOTHING_YET
    },
    flush: ({ full, partition }) => {
      // A full batch may have cut a scrape in two: its partition's pods are scored once the rest
      // has arrived, even when another partition's batch flushes first.
      if (full) {
        cut.add(partition)
        return []
      }
      cut.delete(partition)
      const points = indicators.flush(cut)
      const deviations = new Map<string, Array<number | undefined>>()
      if (options.scorer)
        for (const row of rows.rows(points)) {
          deviations.set(row.workloadKey, options.scorer.score(row))
          forecasts.push(...risingForecasts(row, options.scorer, options.forecasts))
        }
      const found = points.flatMap((point) => {
        const feature = MODEL_FEATURES.indexOf(point.indicator)
        const workload = point.pod === undefined ? point.workload : undefined
        const deviation =
          workload && feature >= 0
            ? deviations.get(
                workloadKeyOf({
                  cluster: point.cluster,
                  namespace: point.namespace ?? '',
                  kind: workload.kind,
                  name: workload.name,
                }),
              )?.[feature]
            : undefined
        return tracker.observe(point, deviation) ?? []
      })
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
    outbox: () => {
      const told = forecasts
      forecasts = []
      for (const f of told) forecastsTold.inc({ indicator: f.indicator })
      // Keyed like the metrics: one workload's forecasts stay in order.
      return [{ topic: TOPICS.forecasts, messages: told.map((f) => ({ key: partitionKey(f), value: f })) }]
    },
  })
}
