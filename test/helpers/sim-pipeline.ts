import {
  createFlowAnalyzer,
  createKubeAnalyzer,
  createLogAnalyzer,
  createIncidentAnalyzer,
  createMetricAnalyzer,
} from '../../analyzers/index.js'
import { createSimFeed } from '../../app/sim-feed.js'
import { TOPICS, type Anomaly, type Component, type Incident, type RootCause } from '../../core/index.js'
import { createScenario, type FaultKind, type GroundTruth } from '../../sim/index.js'
import { intakeHarness } from './intake-harness.js'
import { quietLogger } from './quiet-logger.js'

export interface SimRun {
  truth: GroundTruth | undefined
  anomalies: Anomaly[]
  /** Every incident version published, and every root-cause entry, in order. */
  incidents: Incident[]
  rootCauses: RootCause[]
  stepMs: number
}

/**
 * Runs one simulated scenario through the real intake, bus and analyzers, step by step (each step
 * fully analysed before the next), and returns every anomaly published.
 */
export async function runScenarioThroughAnalyzers(options: {
  scenario: FaultKind | 'none'
  seed: number
  steps: number
  faultAtStep: number
  faultSteps: number
  stepMs?: number
}): Promise<SimRun> {
  const stepMs = options.stepMs ?? 10_000
  const harness = intakeHarness('sim')
  const logger = quietLogger()
  const analyzers: Component[] = [
    createKubeAnalyzer({ bus: harness.bus, logger, metrics: harness.metrics }),
    createLogAnalyzer({ bus: harness.bus, logger, metrics: harness.metrics, warmupRecords: 200 }),
    createFlowAnalyzer({ bus: harness.bus, logger, metrics: harness.metrics }),
    createMetricAnalyzer({ bus: harness.bus, logger, metrics: harness.metrics, warmupPoints: 30 }),
    createIncidentAnalyzer({ bus: harness.bus, logger, metrics: harness.metrics, tickMs: 60_000 }),
  ]
  try {
    const anomalies = await harness.collect<Anomaly>(TOPICS.anomalies)
    const incidents = await harness.collect<Incident>(TOPICS.incidents)
    const rootCauses = await harness.collect<RootCause>(TOPICS.rootCauses)
    for (const analyzer of analyzers) await analyzer.start()
    const startTs = Date.now() - options.steps * stepMs
    const scenario = createScenario({
      scenario: options.scenario,
      seed: options.seed,
      startTs,
      stepMs,
      durationMs: options.steps * stepMs,
      faultAfterMs: options.faultAtStep * stepMs,
      faultDurationMs: options.faultSteps * stepMs,
    })
    const feed = createSimFeed(harness.intake, 'sim', logger)
    for (const tick of scenario.ticks()) {
      await feed(tick)
      await harness.bus.drain(10_000)
    }
    // Anomalies reach the incident analyzer after their analyzers publish them: let that settle too.
    await harness.bus.drain(10_000)
    return { truth: scenario.truth, anomalies, incidents, rootCauses, stepMs }
  } finally {
    for (const analyzer of analyzers) await analyzer.stop()
    await harness.stop()
  }
}
