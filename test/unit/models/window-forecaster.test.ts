import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ModelStore, WindowForecaster, loadTensorflow } from '../../../models/index.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const dir = mkdtempSync(join(tmpdir(), 'argus-models-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Two related series: request rate on a cycle, and CPU that follows it. */
function rows(count: number, seed = 3): number[][] {
  const { next } = seededRandom(seed)
  return Array.from({ length: count }, (_, i) => {
    const rate = 100 + 40 * Math.sin((2 * Math.PI * i) / 48) + (next() - 0.5) * 4
    return [rate, rate / 100 + (next() - 0.5) * 0.04]
  })
}

describe('window forecaster', () => {
  it('learns joint behaviour: CPU that no longer follows traffic is surprising, a normal point is not', async () => {
    const { tf } = await loadTensorflow()
    const history = rows(600)
    const forecaster = await WindowForecaster.train(tf, ['rate', 'cpu'], history, { window: 12, epochs: 40 })
    const [rate, cpu] = rows(601)[600] as [number, number]
    const normal = forecaster.surprise(history, [rate, cpu])
    const decoupled = forecaster.surprise(history, [rate, cpu + 0.6])
    expect(Math.abs(normal.deviation[1] as number)).toBeLessThan(4)
    expect(decoupled.deviation[1] as number).toBeGreaterThan(8)
    expect(normal.expected[0]).toBeCloseTo(rate, -1)
    // A cycle is predictable: the network beats "same as last time".
    expect(forecaster.helps(0)).toBe(true)
    forecaster.dispose()
  })

  it('refuses to train on too little history, with a model error', async () => {
    const { tf } = await loadTensorflow()
    await expect(WindowForecaster.train(tf, ['x'], [[1], [2], [3]])).rejects.toMatchObject({
      code: 'ARGUS_ERR_MODEL',
    })
  })
})

describe('model store', () => {
  it('saves versions, reloads the newest with the same forecasts, and keeps only the last few', async () => {
    const { tf } = await loadTensorflow()
    const store = new ModelStore({ dir, keepVersions: 2, tensorflow: async () => tf })
    const history = rows(300)
    const trained = await WindowForecaster.train(tf, ['rate', 'cpu'], history, { epochs: 5 })
    expect(await store.save('shop.checkout', trained)).toBe(1)
    expect(await store.save('shop.checkout', trained)).toBe(2)
    expect(await store.save('shop.checkout', trained)).toBe(3)
    expect(await store.versions('shop.checkout')).toEqual([2, 3])
    const loaded = await store.loadLatest('shop.checkout')
    expect(loaded?.version).toBe(3)
    const actual = [120, 1.2]
    expect(loaded?.forecaster.surprise(history, actual)).toEqual(trained.surprise(history, actual))
    expect(loaded?.forecaster.meta).toMatchObject({
      features: ['rate', 'cpu'],
      window: 12,
      trainingRows: 300,
    })
    expect(await store.names()).toEqual(['shop.checkout'])
  })

  it('says which model is broken rather than loading half of it', async () => {
    const { tf } = await loadTensorflow()
    const store = new ModelStore({ dir, tensorflow: async () => tf })
    const trained = await WindowForecaster.train(
      tf,
      ['x'],
      rows(100).map((r) => [r[0] as number]),
      { epochs: 2 },
    )
    const version = await store.save('broken', trained)
    writeFileSync(join(dir, 'broken', `v${version}`, 'weights.bin'), 'not weights')
    await expect(store.loadLatest('broken')).rejects.toMatchObject({ code: 'ARGUS_ERR_MODEL' })
    await expect(store.save('../escape', trained)).rejects.toMatchObject({ code: 'ARGUS_ERR_BAD_INPUT' })
    expect(await store.loadLatest('never-saved')).toBeUndefined()
  })
})
