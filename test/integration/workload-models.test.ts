import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { simulatedClusterEnv, startArgus, type ArgusProcess } from '../helpers/argus-process.js'
import { until } from '../helpers/until.js'

// Learned workload models in the running service: trained from the stored history of the simulated
// cluster on a schedule, saved as numbered versions, and loaded again after a restart.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-models-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

const env = simulatedClusterEnv(dataDir, {
  // Five scrapes a second: a model's worth of history in seconds, and no fault to learn.
  ARGUS_SIM_STEP_MS: '200',
  ARGUS_SIM_FAULT_INTERVAL_MS: '3600000',
  ARGUS_WRITER_MAX_WAIT_MS: '100',
  ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS: '4000',
  ARGUS_ANALYZER_MODEL_MIN_ROWS: '40',
  ARGUS_ANALYZER_MODEL_HISTORY_MS: '3600000',
})

const logged = (process: ArgusProcess, text: string): string | undefined =>
  process.logs.find((line) => line.includes(text))

describe('workload models', () => {
  it('retrains from stored history on a schedule, keeps versions on disk, and reloads them at start', async () => {
    argus = await startArgus({ dataDir, env })
    const folder = join(dataDir, 'models', 'default.shop.Deployment.checkout')
    // Two rounds: the second saves version 2 of the same workload's model.
    await until(
      () => (existsSync(join(folder, 'v2')) ? true : undefined),
      'version 2 of the checkout model',
      90_000,
      250,
    )
    const trained = logged(argus, 'model trained and installed')
    expect(trained).toBeDefined()
    const meta = JSON.parse(readFileSync(join(folder, 'v2', 'meta.json'), 'utf8')) as {
      version: number
      features: string[]
      trainingRows: number
      residual: number[]
    }
    expect(meta).toMatchObject({
      version: 2,
      features: ['request_rate', 'error_ratio', 'latency_seconds', 'cpu_cores', 'memory_limit_ratio'],
    })
    expect(meta.trainingRows).toBeGreaterThanOrEqual(40)
    expect(meta.residual.every((r) => Number.isFinite(r) && r > 0)).toBe(true)
    expect(readdirSync(folder).sort()).toEqual(expect.arrayContaining(['v1', 'v2']))
    const metrics = await (await fetch(`${argus.url}/metrics`)).text()
    expect(metrics).toMatch(/^argus_models_loaded [1-9]\d*$/m)
    await argus.stop('SIGTERM')

    // A restart loads the newest saved version before any retraining round has run.
    argus = await startArgus({
      dataDir,
      env: { ...env, ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS: '3600000' },
    })
    const loaded = await until(
      () =>
        argus?.logs.find(
          (line) => line.includes('model loaded') && line.includes('default.shop.Deployment.checkout'),
        ),
      'the checkout model loaded after the restart',
      30_000,
      100,
    )
    expect(loaded).toMatch(/"version":[2-9]/)
  })
})
