import type { Logger } from '../core/index.js'
import type { ModelStore, WindowForecaster } from '../models/index.js'
import { MODEL_FEATURES, modelNameOf, type FeatureRow, type WorkloadIdentity } from './workload-features.js'

interface WorkloadState {
  workload: WorkloadIdentity
  /** The last rows, at most one model window (the input of the next forecast). */
  recent: number[][]
  lastSeen: number
  /** Time between the last two rows: one forecast step. */
  stepMs: number
  model?: { forecaster: WindowForecaster; version: number }
}

export interface WorkloadModelScorerOptions {
  store: ModelStore
  logger: Logger
  /** Workloads remembered at most (their recent rows and models). */
  maxWorkloads?: number
}

const HISTORY_ROWS = 64

/**
 * Scores each workload's indicator row against its learned model: per feature, the distance from
 * the model's forecast in units of its usual error, where the model predicts that feature better
 * than "same as last time" (elsewhere nothing, so a poor model cannot add noise). The deviations
 * go into the per-series detectors as one more view. Models are loaded from the store the first
 * time a workload is seen and replaced when the trainer installs a newer version.
 */
export class WorkloadModelScorer {
  private readonly workloads = new Map<string, WorkloadState>()
  private readonly maxWorkloads: number

  constructor(private readonly options: WorkloadModelScorerOptions) {
    this.maxWorkloads = options.maxWorkloads ?? 10_000
  }

  /** Deviations per MODEL_FEATURES entry for this row (undefined where the model does not help), then remembers the row. */
  score(row: FeatureRow): Array<number | undefined> {
    const state = this.stateOf(row)
    let deviations: Array<number | undefined> = MODEL_FEATURES.map(() => undefined)
    const model = state?.model?.forecaster
    if (state && model && state.recent.length >= model.meta.window) {
      const { deviation } = model.surprise(state.recent, row.values)
      deviations = deviation.map((d, f) => (model.helps(f) ? d : undefined))
    }
    if (state) {
      state.recent.push(row.values)
      if (state.recent.length > HISTORY_ROWS) state.recent.shift()
      if (row.ts > state.lastSeen) state.stepMs = row.ts - state.lastSeen
      state.lastSeen = row.ts
    }
    return deviations
  }

  /**
   * The workload's next `steps` rows as its model forecasts them from the rows scored so far, for
   * the features the model predicts better than the naive forecast (the others are undefined).
   */
  forecast(
    workloadKey: string,
    steps: number,
  ): { rows: Array<Array<number | undefined>>; stepMs: number; version: number } | undefined {
    const state = this.workloads.get(workloadKey)
    const model = state?.model
    if (!state || !model || state.stepMs <= 0 || state.recent.length < model.forecaster.meta.window) return
    const rows = model.forecaster
      .forecastAhead(state.recent, steps)
      .map((row) => row.map((x, f) => (model.forecaster.helps(f) ? x : undefined)))
    return { rows, stepMs: state.stepMs, version: model.version }
  }

  install(workloadKey: string, forecaster: WindowForecaster, version: number): void {
    const state = this.workloads.get(workloadKey)
    if (!state) {
      forecaster.dispose()
      return
    }
    state.model?.forecaster.dispose()
    state.model = { forecaster, version }
  }

  /** Workloads seen live, most recently seen first: the ones worth training. */
  seen(): Array<{ key: string; workload: WorkloadIdentity; modelVersion?: number }> {
    return [...this.workloads.entries()]
      .sort((a, b) => b[1].lastSeen - a[1].lastSeen)
      .map(([key, s]) => ({ key, workload: s.workload, ...(s.model && { modelVersion: s.model.version }) }))
  }

  get modelCount(): number {
    let n = 0
    for (const s of this.workloads.values()) if (s.model) n++
    return n
  }

  dispose(): void {
    for (const s of this.workloads.values()) s.model?.forecaster.dispose()
    this.workloads.clear()
  }

  private stateOf(row: FeatureRow): WorkloadState | undefined {
    let state = this.workloads.get(row.workloadKey)
    if (state) return state
    if (this.workloads.size >= this.maxWorkloads) return undefined
    state = { workload: row.workload, recent: [], lastSeen: row.ts, stepMs: 0 }
    this.workloads.set(row.workloadKey, state)
    const loaded = state
    const name = modelNameOf(row.workload)
    this.options.store
      .loadLatest(name)
      .then((stored) => {
        if (stored && !loaded.model) {
          loaded.model = { forecaster: stored.forecaster, version: stored.version }
          this.options.logger.info({ model: name, version: stored.version }, 'model loaded')
        }
      })
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, model: name }, 'model not loaded; retraining replaces it'),
      )
    return state
  }
}
