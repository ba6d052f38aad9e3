import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  MODEL_FEATURES,
  WorkloadFeatureRows,
  WorkloadModelScorer,
  risingForecasts,
  type FeatureRow,
  type IndicatorPoint,
} from '../../../analyzers/index.js'
import { ModelStore, WindowForecaster, loadTensorflow } from '../../../models/index.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const dir = mkdtempSync(join(tmpdir(), 'argus-scorer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const workload = { cluster: 'c1', namespace: 'shop', kind: 'Deployment', name: 'checkout' }

/** Traffic on a cycle; CPU and latency follow it; errors and memory flat. */
function history(count: number): number[][] {
  const { next } = seededRandom(11)
  return Array.from({ length: count }, (_, i) => {
    const rate = 50 + 20 * Math.sin((2 * Math.PI * i) / 40) + (next() - 0.5) * 2
    return [rate, 0.01, 0.05 + rate / 2000, rate / 100, 0.4]
  })
}

describe('workload feature rows', () => {
  it('builds one row per workload and time from workload points, carrying a missing feature forward', () => {
    const rows = new WorkloadFeatureRows()
    const point = (indicator: IndicatorPoint['indicator'], value: number, ts: number): IndicatorPoint => ({
      indicator,
      value,
      ts,
      cluster: 'c1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'checkout' },
    })
    const [first] = rows.rows([point('request_rate', 10, 1), point('cpu_cores', 0.5, 1)])
    expect(first?.values).toEqual([10, 0, 0, 0.5, 0])
    const [second] = rows.rows([
      point('request_rate', 12, 2),
      { ...point('cpu_cores', 9, 2), pod: 'checkout-x' },
    ])
    expect(second?.values).toEqual([12, 0, 0, 0.5, 0]) // pod points are not workload features
    expect(MODEL_FEATURES).toHaveLength(5)
  })
})

describe('workload model scorer', () => {
  it('gives deviations from the forecast where the model beats the naive forecast, nothing before a model', async () => {
    const { tf } = await loadTensorflow()
    const store = new ModelStore({ dir, tensorflow: async () => tf })
    const scorer = new WorkloadModelScorer({ store, logger: quietLogger() })
    const rows = history(400)
    const row = (values: number[], i: number): FeatureRow => ({
      workloadKey: 'c1/shop/Deployment/checkout',
      workload,
      ts: i,
      values,
    })
    // Before a model, every deviation is undefined.
    rows
      .slice(0, 380)
      .forEach((values, i) => expect(scorer.score(row(values, i)).every((d) => d === undefined)).toBe(true))
    const forecaster = await WindowForecaster.train(tf, [...MODEL_FEATURES], rows.slice(0, 380), {
      epochs: 40,
    })
    scorer.install('c1/shop/Deployment/checkout', forecaster, 1)
    expect(scorer.seen()).toEqual([{ key: 'c1/shop/Deployment/checkout', workload, modelVersion: 1 }])

    const normal = scorer.score(row(rows[380] as number[], 380))
    expect(Math.abs(normal[0] as number)).toBeLessThan(4)
    // Flat features (errors, memory) are no better forecast than "as before": the model stays out.
    expect(normal[1]).toBeUndefined()
    expect(normal[4]).toBeUndefined()
    // CPU far above what this traffic needs.
    const [rate, errors, latency, cpu, memory] = rows[381] as number[]
    const hot = scorer.score(
      row([rate as number, errors as number, latency as number, (cpu as number) + 1, memory as number], 381),
    )
    expect(hot[3] as number).toBeGreaterThan(8)
    scorer.dispose()
  })

  it('forecasts a coming rise of load and CPU as a finding, and nothing at the crest of the cycle', async () => {
    const { tf } = await loadTensorflow()
    const store = new ModelStore({ dir, tensorflow: async () => tf })
    const scorer = new WorkloadModelScorer({ store, logger: quietLogger() })
    const rows = history(460)
    const STEP = 15_000
    const row = (i: number): FeatureRow => ({
      workloadKey: 'c1/shop/Deployment/checkout',
      workload,
      ts: i * STEP,
      values: rows[i] as number[],
    })
    const forecaster = await WindowForecaster.train(tf, [...MODEL_FEATURES], rows.slice(0, 380), {
      epochs: 40,
    })
    scorer.score(row(0))
    scorer.install('c1/shop/Deployment/checkout', forecaster, 7)
    // The cycle is 40 points long: at 397 traffic is climbing out of its trough; at 410 it peaks.
    for (let i = 1; i <= 397; i++) scorer.score(row(i))
    const climbing = risingForecasts(row(397), scorer, { steps: 4, minRise: 0.2 })
    expect(climbing.map((f) => f.indicator).sort()).toEqual(['cpu_cores', 'request_rate'])
    const load = climbing.find((f) => f.indicator === 'request_rate')
    expect(load).toMatchObject({ workload: { kind: 'Deployment', name: 'checkout' }, horizonMs: 4 * STEP })
    expect(load?.modelVersion).toBe(7)
    // What the cycle itself will bring four points on, give or take the model's error.
    const truth = Math.max(...[398, 399, 400, 401].map((i) => (rows[i] as number[])[0] as number))
    expect(load?.predicted).toBeGreaterThan((load?.current ?? 0) * 1.2)
    expect(Math.abs((load?.predicted ?? 0) - truth) / truth).toBeLessThan(0.15)
    for (let i = 398; i <= 410; i++) scorer.score(row(i))
    expect(risingForecasts(row(410), scorer, { steps: 4, minRise: 0.2 })).toEqual([])
    scorer.dispose()
  })
})
