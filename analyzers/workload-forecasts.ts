import type { WorkloadForecast } from '../core/index.js'
import { MODEL_FEATURES, type FeatureRow } from './workload-features.js'
import type { WorkloadModelScorer } from './workload-model-scorer.js'

/** Indicators whose rise asks for capacity before it runs out. */
const CAPACITY_INDICATORS = ['cpu_cores', 'request_rate'] as const

export interface ForecastOptions {
  /** Rows forecast ahead. */
  steps: number
  /** The peak within the horizon must exceed now by this share (0.2: 20 % more) to be told. */
  minRise: number
}

export const DEFAULT_FORECAST_OPTIONS: ForecastOptions = { steps: 4, minRise: 0.2 }

/**
 * Rises a workload's model forecasts for its load and CPU: the highest value within the next
 * `steps` points, told when it exceeds the current value by `minRise`. Only features the model
 * predicts better than "same as last time" count, so a model that cannot forecast says nothing.
 */
export function risingForecasts(
  row: FeatureRow,
  scorer: WorkloadModelScorer,
  options: ForecastOptions = DEFAULT_FORECAST_OPTIONS,
): WorkloadForecast[] {
  if (options.steps === 0) return []
  const forecast = scorer.forecast(row.workloadKey, options.steps)
  if (!forecast || forecast.rows.length === 0) return []
  const found: WorkloadForecast[] = []
  for (const indicator of CAPACITY_INDICATORS) {
    const f = MODEL_FEATURES.indexOf(indicator)
    const current = row.values[f] ?? 0
    let peak = -Infinity
    for (const r of forecast.rows) peak = Math.max(peak, r[f] ?? -Infinity)
    if (!(current > 0) || !(peak >= current * (1 + options.minRise))) continue
    found.push({
      ts: row.ts,
      cluster: row.workload.cluster,
      namespace: row.workload.namespace,
      workload: { kind: row.workload.kind, name: row.workload.name },
      indicator,
      current,
      predicted: peak,
      horizonMs: forecast.stepMs * forecast.rows.length,
      modelVersion: forecast.version,
    })
  }
  return found
}
