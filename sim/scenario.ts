import type { FaultKind, GroundTruth } from './faults.js'
import { createSimulator, type SimTick, type Simulator } from './simulator.js'

export interface ScenarioOptions {
  /** A fault kind, or `none` for a healthy cluster. */
  scenario: FaultKind | 'none'
  seed: number
  startTs: number
  durationMs: number
  stepMs?: number
  /** When the fault starts, from the beginning (default: a third of the way in). */
  faultAfterMs?: number
  /** How long it lasts (default: a third of the duration). */
  faultDurationMs?: number
  target?: string
}

export interface Scenario {
  simulator: Simulator
  truth: GroundTruth | undefined
  /** Steps the whole scenario, handing each tick over. */
  ticks(): Generator<SimTick>
}

/** A simulator with one fault scheduled: the unit of tests, benchmarks and `argus sim`. */
export function createScenario(options: ScenarioOptions): Scenario {
  const stepMs = options.stepMs ?? 10_000
  const simulator = createSimulator({ seed: options.seed, startTs: options.startTs, stepMs })
  const truth =
    options.scenario === 'none'
      ? undefined
      : simulator.inject(options.scenario, {
          startTs: options.startTs + (options.faultAfterMs ?? Math.round(options.durationMs / 3)),
          durationMs: options.faultDurationMs ?? Math.round(options.durationMs / 3),
          ...(options.target && { target: options.target }),
        })
  const steps = Math.ceil(options.durationMs / stepMs)
  return {
    simulator,
    truth,
    *ticks() {
      for (let i = 0; i < steps; i++) yield simulator.step()
    },
  }
}
