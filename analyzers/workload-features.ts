import type { IndicatorName, IndicatorPoint } from './metric-indicators.js'

/** The indicators a workload's model forecasts together: load, errors, latency and the resources that serve them. */
export const MODEL_FEATURES: readonly IndicatorName[] = [
  'request_rate',
  'error_ratio',
  'latency_seconds',
  'cpu_cores',
  'memory_limit_ratio',
]

export interface WorkloadIdentity {
  cluster: string
  namespace: string
  kind: string
  name: string
}

export interface FeatureRow {
  workloadKey: string
  workload: WorkloadIdentity
  ts: number
  /** One value per MODEL_FEATURES entry. */
  values: number[]
}

export const workloadKeyOf = (w: WorkloadIdentity): string =>
  `${w.cluster}/${w.namespace}/${w.kind}/${w.name}`

/** A model's folder name for a workload: readable, and safe as one path segment. */
export const modelNameOf = (w: WorkloadIdentity): string =>
  [w.cluster, w.namespace, w.kind, w.name].map((part) => part.replace(/[^A-Za-z0-9_-]/g, '_')).join('.')

/**
 * Workload indicator points as rows of the model's features, one row per workload and time. A
 * feature a workload does not report this time keeps its last value (0 before it has one), so rows
 * built live and rows rebuilt from stored history agree.
 */
export class WorkloadFeatureRows {
  private readonly last = new Map<string, number[]>()

  rows(points: readonly IndicatorPoint[]): FeatureRow[] {
    const byWorkload = new Map<string, FeatureRow>()
    for (const point of points) {
      if (point.pod !== undefined || !point.workload) continue
      const feature = MODEL_FEATURES.indexOf(point.indicator)
      if (feature < 0) continue
      const workload = {
        cluster: point.cluster,
        namespace: point.namespace ?? '',
        kind: point.workload.kind,
        name: point.workload.name,
      }
      const key = workloadKeyOf(workload)
      let row = byWorkload.get(key)
      if (!row) {
        const values = [...(this.last.get(key) ?? MODEL_FEATURES.map(() => 0))]
        row = { workloadKey: key, workload, ts: point.ts, values }
        byWorkload.set(key, row)
      }
      row.values[feature] = point.value
      row.ts = Math.max(row.ts, point.ts)
    }
    for (const row of byWorkload.values()) this.last.set(row.workloadKey, row.values)
    return [...byWorkload.values()]
  }

  forget(workloadKey: string): void {
    this.last.delete(workloadKey)
  }
}
