import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sleep } from '../../core/index.js'
import { simulatedClusterEnv, startArgus, type ArgusProcess } from '../helpers/argus-process.js'

// `argus start` with no cluster configured: the simulated cluster feeds the real pipeline.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-demo-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

/** Alertmanager alerts come from a team's own Prometheus; the simulated cluster has none. */
const SIMULATOR_HAS_NO_ALERTMANAGER = 'externalAlerts'

describe('demo mode', () => {
  it('says it runs on a simulated cluster and stores every signal kind it simulates within a minute', async () => {
    // No kubeconfig anywhere (HOME points at an empty folder), short steps and an early fault.
    argus = await startArgus({
      dataDir,
      env: simulatedClusterEnv(dataDir, {
        ARGUS_SIM_STEP_MS: '2000',
        ARGUS_SIM_FAULT_INTERVAL_MS: '6000',
        ARGUS_SIM_FAULT_DURATION_MS: '3000',
      }),
    })
    expect(argus.logs.join('\n')).toContain('SIMULATED cluster')

    const deadline = Date.now() + 60_000
    let counts: Record<string, number> = {}
    while (Date.now() < deadline) {
      const response = await fetch(`${argus.url}/api/v1/signals/counts?from=-3d`)
      counts = ((await response.json()) as { counts: Record<string, number> }).counts
      if (Object.entries(counts).every(([kind, n]) => n > 0 || kind === SIMULATOR_HAS_NO_ALERTMANAGER)) break
      await sleep(500)
    }
    expect(counts).toEqual({
      logs: expect.any(Number),
      metrics: expect.any(Number),
      kubeEvents: expect.any(Number),
      resourceChanges: expect.any(Number),
      objectStates: expect.any(Number),
      externalAlerts: expect.any(Number),
      flows: expect.any(Number),
    })
    for (const [kind, n] of Object.entries(counts))
      if (kind !== SIMULATOR_HAS_NO_ALERTMANAGER) expect(n, kind).toBeGreaterThan(0)

    // The first fault (cpu_hog) is announced with its root cause.
    const announced = Date.now() + 15_000
    while (!argus.logs.join('\n').includes('demo: injecting') && Date.now() < announced) await sleep(200)
    expect(argus.logs.join('\n')).toMatch(/demo: injecting cpu_hog .* root cause Pod\/recommendation-/)
  })
})
