import { errorMessage, gauge, type Component, type Logger, type Registry } from '../core/index.js'
import type { ModelStore, WindowForecaster } from '../models/index.js'
import type { MetricRepository } from '../storage/index.js'
import { INDICATOR_SOURCE_NAMES, INDICATOR_SOURCE_PATTERNS, MetricIndicators } from './metric-indicators.js'
import {
  MODEL_FEATURES,
  WorkloadFeatureRows,
  modelNameOf,
  type WorkloadIdentity,
} from './workload-features.js'
import type { WorkloadModelScorer } from './workload-model-scorer.js'

export interface WorkloadModelTrainerOptions {
  /** Trains one workload's model on its rows (a WindowForecaster with the runtime's TensorFlow). */
  train: (features: string[], rows: number[][]) => Promise<WindowForecaster>
  store: ModelStore
  history: MetricRepository
  scorer: WorkloadModelScorer
  logger: Logger
  metrics: Registry
  /** How often every seen workload is retrained; the first round runs one interval after start. */
  intervalMs: number
  /** Stored history each training reads. */
  historyMs: number
  /** Rows (indicator points) a workload needs before it gets a model. */
  minRows: number
  /** Workloads trained per round at most, the most recently seen first. */
  maxWorkloads: number
  /** Raw samples read per workload at most. */
  maxSamples?: number
  now?: () => number
}

export interface WorkloadModelTrainer extends Component {
  /** One training round now (also what the schedule runs); resolves with the workloads trained. */
  trainOnce(): Promise<string[]>
}

/**
 * Retrains each workload's model on a schedule from stored history: the workload's raw samples
 * are read back from storage and replayed through the same indicator code the live analyzer runs,
 * so the model learns exactly the rows it will be asked to forecast. A new version is saved, then
 * installed in the scorer; one workload's failure is logged and the round goes on.
 */
export function createWorkloadModelTrainer(options: WorkloadModelTrainerOptions): WorkloadModelTrainer {
  const logger = options.logger.child({ component: 'model-trainer' })
  const now = options.now ?? Date.now
  const models = gauge(
    options.metrics,
    'argus_models_loaded',
    'Workload models in use by the metric analyzer',
  )
  let timer: NodeJS.Timeout | undefined
  let round: Promise<string[]> | undefined
  let stopping = false

  async function rowsOf(workload: WorkloadIdentity): Promise<number[][]> {
    const to = now()
    const samples = await options.history.workloadSamples({
      fromTs: to - options.historyMs,
      toTs: to,
      cluster: workload.cluster,
      namespace: workload.namespace,
      workloadKind: workload.kind,
      workloadName: workload.name,
      names: INDICATOR_SOURCE_NAMES,
      namePatterns: INDICATOR_SOURCE_PATTERNS,
      limit: options.maxSamples ?? 2_000_000,
    })
    const indicators = new MetricIndicators()
    const features = new WorkloadFeatureRows()
    const rows: number[][] = []
    // Replayed scrape by scrape: samples of one timestamp are one flush, as they are live.
    let at = 0
    while (at < samples.length) {
      const ts = samples[at]?.ts
      while (at < samples.length && samples[at]?.ts === ts)
        indicators.add(samples[at++] as (typeof samples)[number])
      for (const row of features.rows(indicators.flush())) rows.push(row.values)
    }
    return rows
  }

  async function trainOnce(): Promise<string[]> {
    const trained: string[] = []
    for (const { key, workload } of options.scorer.seen().slice(0, options.maxWorkloads)) {
      if (stopping) break
      const name = modelNameOf(workload)
      try {
        const rows = await rowsOf(workload)
        if (rows.length < options.minRows) {
          logger.debug({ model: name, rows: rows.length }, 'too little history to train yet')
          continue
        }
        const forecaster = await options.train([...MODEL_FEATURES], rows)
        const version = await options.store.save(name, forecaster)
        options.scorer.install(key, forecaster, version)
        trained.push(name)
        logger.info(
          { model: name, version, rows: rows.length, loss: forecaster.meta.finalLoss },
          'model trained and installed',
        )
      } catch (error) {
        logger.warn(
          { model: name, err: error, reason: errorMessage(error) },
          'model training failed; the old version stays',
        )
      }
    }
    models.set(options.scorer.modelCount)
    return trained
  }

  function schedule(): void {
    if (stopping) return
    timer = setTimeout(() => {
      round = trainOnce().finally(() => {
        round = undefined
        schedule()
      })
    }, options.intervalMs)
    timer.unref()
  }

  return {
    name: 'model-trainer',
    async start() {
      stopping = false
      schedule()
      logger.info(
        { intervalMs: options.intervalMs, historyMs: options.historyMs },
        'retraining workload models on a schedule',
      )
    },
    async stop() {
      stopping = true
      if (timer) clearTimeout(timer)
      await round?.catch(() => undefined)
    },
    trainOnce: () => (round ??= trainOnce().finally(() => (round = undefined))),
  }
}
