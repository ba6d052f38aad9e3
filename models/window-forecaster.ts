import type * as Tf from '@tensorflow/tfjs'
import { ArgusError } from '../core/index.js'
import type { Tensorflow } from './tf-runtime.js'

/** What a forecaster needs besides its weights to be used again: shapes, scaling and how wrong it usually is. */
export interface ForecasterMeta {
  /** Points of history per forecast. */
  window: number
  /** Series forecast together (a workload's indicators, or one NAB series). */
  features: string[]
  /** Per feature: values are scaled as (x - center) / scale before the network sees them. */
  center: number[]
  scale: number[]
  /** Per feature: mean absolute forecast error on held-out training points, in scaled units. */
  residual: number[]
  /** The same for the naive forecast (the last value): the model is worth using where it beats this. */
  naiveResidual: number[]
  trainedAt: number
  trainingRows: number
  finalLoss: number
}

export interface TrainOptions {
  window?: number
  hiddenUnits?: number
  epochs?: number
  /** Windows per gradient step (64 by default). */
  batchSize?: number
  /** The last share of windows is held out to measure the residual the scores are relative to. */
  holdout?: number
  seed?: number
}

export interface ForecasterArtifacts {
  meta: ForecasterMeta
  topology: unknown
  weightSpecs: Tf.io.WeightsManifestEntry[]
  weights: ArrayBuffer
}

/**
 * A small network that forecasts the next point of several series from their last `window`
 * points: a multilayer perceptron over the flattened window, trained on scaled history. Its
 * forecast error, relative to the error it made on held-out history, says how unusual a point is
 * given the joint behaviour of the series, which single-series statistics cannot see.
 */
export class WindowForecaster {
  private constructor(
    private readonly tf: Tensorflow,
    private readonly model: Tf.LayersModel,
    readonly meta: ForecasterMeta,
  ) {}

  /** Trains on `rows` (one array of feature values per time step, oldest first). */
  static async train(
    tf: Tensorflow,
    features: string[],
    rows: readonly number[][],
    options: TrainOptions = {},
  ): Promise<WindowForecaster> {
    const window = options.window ?? 12
    const holdout = options.holdout ?? 0.2
    const samples = rows.length - window
    if (samples < 20)
      throw new ArgusError(
        'ARGUS_ERR_MODEL',
        `need at least ${window + 20} rows to train, got ${rows.length}`,
      )
    const width = features.length
    const center: number[] = []
    const scale: number[] = []
    for (let f = 0; f < width; f++) {
      const column = rows.map((r) => r[f] ?? 0).sort((a, b) => a - b)
      const quantile = (q: number): number =>
        column[Math.min(column.length - 1, Math.floor(q * column.length))] ?? 0
      center.push(quantile(0.5))
      // Robust spread: the interquartile range, or a fraction of the level for a near-flat series.
      scale.push(Math.max((quantile(0.75) - quantile(0.25)) / 1.35, Math.abs(quantile(0.5)) * 0.01, 1e-6))
    }
    const scaled = rows.map((r) =>
      r.map((x, f) => clip(((x ?? 0) - (center[f] as number)) / (scale[f] as number))),
    )
    const inputs: number[][] = []
    const targets: number[][] = []
    for (let i = window; i < scaled.length; i++) {
      inputs.push(scaled.slice(i - window, i).flat())
      targets.push(scaled[i] as number[])
    }
    const trainCount = Math.max(1, Math.floor(inputs.length * (1 - holdout)))

    const model = tf.sequential()
    model.add(
      tf.layers.dense({
        inputShape: [window * width],
        units: options.hiddenUnits ?? 32,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed ?? 1 }),
      }),
    )
    model.add(
      tf.layers.dense({
        units: width,
        kernelInitializer: tf.initializers.glorotUniform({ seed: (options.seed ?? 1) + 1 }),
      }),
    )
    model.compile({ optimizer: tf.train.adam(0.005), loss: 'meanSquaredError' })
    const xs = tf.tensor2d(inputs.slice(0, trainCount))
    const ys = tf.tensor2d(targets.slice(0, trainCount))
    let finalLoss = Number.NaN
    try {
      const history = await model.fit(xs, ys, {
        epochs: options.epochs ?? 30,
        batchSize: options.batchSize ?? 64,
        // In time order: the same history trains the same model (tfjs shuffles with Math.random).
        shuffle: false,
        verbose: 0,
      })
      finalLoss = Number(history.history.loss?.at(-1) ?? Number.NaN)
    } finally {
      xs.dispose()
      ys.dispose()
    }
    // The residual on the held-out tail (or on the training data when there is no tail).
    const heldIn = inputs.length > trainCount ? trainCount : 0
    const predicted = predictRows(tf, model, inputs.slice(heldIn))
    const residual = Array.from({ length: width }, (_, f) => {
      let sum = 0
      predicted.forEach(
        (p, i) => (sum += Math.abs((p[f] ?? 0) - ((targets[heldIn + i] as number[])[f] ?? 0))),
      )
      return Math.max(sum / Math.max(predicted.length, 1), 0.05)
    })
    const naiveResidual = Array.from({ length: width }, (_, f) => {
      let sum = 0
      let n = 0
      for (let i = window + heldIn; i < scaled.length; i++, n++)
        sum += Math.abs(((scaled[i] as number[])[f] ?? 0) - ((scaled[i - 1] as number[])[f] ?? 0))
      return Math.max(sum / Math.max(n, 1), 0.05)
    })
    return new WindowForecaster(tf, model, {
      window,
      features,
      center,
      scale,
      residual,
      naiveResidual,
      trainedAt: Date.now(),
      trainingRows: rows.length,
      finalLoss,
    })
  }

  static async fromArtifacts(tf: Tensorflow, artifacts: ForecasterArtifacts): Promise<WindowForecaster> {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: artifacts.topology as Tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: artifacts.weightSpecs,
        weightData: artifacts.weights,
      }),
    )
    return new WindowForecaster(tf, model, artifacts.meta)
  }

  async toArtifacts(): Promise<ForecasterArtifacts> {
    let saved: Tf.io.ModelArtifacts | undefined
    await this.model.save(
      this.tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      }),
    )
    const weightData = saved?.weightData
    if (!saved || !weightData || !saved.weightSpecs)
      throw new ArgusError('ARGUS_ERR_MODEL', 'the model produced no weights to save')
    const weights = Array.isArray(weightData) ? concat(weightData) : weightData
    return { meta: this.meta, topology: saved.modelTopology, weightSpecs: saved.weightSpecs, weights }
  }

  /**
   * How far each feature of `actual` is from the forecast made from `history` (its last `window`
   * rows), in units of the forecaster's usual error: about 1 is ordinary.
   */
  surprise(
    history: readonly number[][],
    actual: readonly number[],
  ): { expected: number[]; deviation: number[] } {
    const { center, scale, residual } = this.meta
    const [forecast] = predictRows(this.tf, this.model, [this.scaledWindow(history).flat()])
    const expected: number[] = []
    const deviation: number[] = []
    actual.forEach((x, f) => {
      const predictedScaled = forecast?.[f] ?? 0
      expected.push(predictedScaled * (scale[f] as number) + (center[f] as number))
      const actualScaled = clip((x - (center[f] as number)) / (scale[f] as number))
      deviation.push((actualScaled - predictedScaled) / (residual[f] as number))
    })
    return { expected, deviation }
  }

  /**
   * `surprise` for each of `rows[from..to)`, each forecast from the `window` rows before it, in one
   * batch: for scoring a recorded series, where those rows are all known already.
   */
  surpriseEach(rows: readonly number[][], from: number, to: number): number[][] {
    const { window, residual } = this.meta
    if (from < window)
      throw new ArgusError('ARGUS_ERR_MODEL', `need ${window} rows of history before row ${from}`)
    if (to <= from) return []
    const scaled = rows.slice(from - window, to).map((r) => this.scaledRow(r))
    const inputs: number[][] = []
    for (let i = window; i < scaled.length; i++) inputs.push(scaled.slice(i - window, i).flat())
    const forecasts = predictRows(this.tf, this.model, inputs)
    return forecasts.map((forecast, k) => {
      const actual = scaled[window + k] as number[]
      return actual.map((x, f) => (x - (forecast[f] ?? 0)) / (residual[f] as number))
    })
  }

  /**
   * The next `steps` rows after `history`, each forecast from the window ending just before it
   * (earlier forecasts stand in for the points not seen yet), in the features' own units.
   */
  forecastAhead(history: readonly number[][], steps: number): number[][] {
    const { window, center, scale } = this.meta
    const scaled = this.scaledWindow(history)
    const ahead: number[][] = []
    for (let step = 0; step < steps; step++) {
      const [next] = predictRows(this.tf, this.model, [scaled.slice(scaled.length - window).flat()])
      if (!next) break
      const row = next.map(clip)
      scaled.push(row)
      ahead.push(row.map((x, f) => x * (scale[f] as number) + (center[f] as number)))
    }
    return ahead
  }

  /** The last `window` rows of history, scaled as the network saw its training data. */
  private scaledWindow(history: readonly number[][]): number[][] {
    const { window } = this.meta
    if (history.length < window) throw new ArgusError('ARGUS_ERR_MODEL', `need ${window} rows of history`)
    return history.slice(history.length - window).map((r) => this.scaledRow(r))
  }

  /** A row as the network sees it: each feature centred, scaled and clipped. */
  private scaledRow(row: readonly number[]): number[] {
    const { center, scale } = this.meta
    return row.map((x, f) => clip((x - (center[f] as number)) / (scale[f] as number)))
  }

  /** Features whose forecast beats the naive one by a margin: where the model adds something. */
  helps(feature: number, margin = 0.8): boolean {
    return (this.meta.residual[feature] ?? Infinity) < margin * (this.meta.naiveResidual[feature] ?? 0)
  }

  dispose(): void {
    this.model.dispose()
  }
}

/** Scaled values are clipped: one wild point must not blow up the network's input. */
const clip = (x: number): number => Math.max(-50, Math.min(50, Number.isFinite(x) ? x : 0))

function predictRows(tf: Tensorflow, model: Tf.LayersModel, inputs: number[][]): number[][] {
  if (inputs.length === 0) return []
  return tf.tidy(() => (model.predict(tf.tensor2d(inputs)) as Tf.Tensor2D).arraySync())
}

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0))
  let at = 0
  for (const b of buffers) {
    out.set(new Uint8Array(b), at)
    at += b.byteLength
  }
  return out.buffer
}
