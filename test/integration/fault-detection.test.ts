import { describe, expect, it } from 'vitest'
import type { Anomaly } from '../../core/index.js'
import { FAULT_KINDS, type GroundTruth } from '../../sim/index.js'
import { runScenarioThroughAnalyzers } from '../helpers/sim-pipeline.js'

// Every simulated fault, through the real intake, bus and analyzers: the faulty entity gets an
// anomaly within two samples of the fault's onset, and a healthy cluster raises no metric anomaly.
const STEPS = 160
const FAULT_AT = 100
const SEEDS = [1, 2]

/** The fault's own entity: the root cause itself, or the workload (or one of its pods) it hits. */
function isOnFaultyEntity(anomaly: Anomaly, truth: GroundTruth): boolean {
  const target = truth.affectedServices[0]
  const { kind, name } = anomaly.entity
  if (kind === truth.rootCause.kind && name === truth.rootCause.name) return true
  if (truth.rootCause.kind === 'Node') return false
  return (
    name === target ||
    (kind === 'Pod' && (anomaly.workload?.name === target || name.startsWith(`${target}-`)))
  )
}

describe('fault detection on the simulator', () => {
  for (const seed of SEEDS)
    for (const fault of FAULT_KINDS)
      it(`${fault} (seed ${seed}): an anomaly on the faulty entity within two samples of onset`, async () => {
        const run = await runScenarioThroughAnalyzers({
          scenario: fault,
          seed,
          steps: STEPS,
          faultAtStep: FAULT_AT,
          faultSteps: 40,
        })
        const truth = run.truth as GroundTruth
        const onTime = run.anomalies.filter(
          (a) =>
            isOnFaultyEntity(a, truth) &&
            a.ts >= truth.startTs - run.stepMs &&
            a.ts <= truth.startTs + 2 * run.stepMs,
        )
        expect(
          onTime.map((a) => `${a.entity.kind}/${a.entity.name} ${a.kind}`),
          `anomalies: ${run.anomalies.map((a) => `${(a.ts - truth.startTs) / run.stepMs} ${a.entity.name} ${a.kind}`).join('; ')}`,
        ).not.toEqual([])
        // Nothing fired on the faulty entity before the fault: the finding is the fault's, not noise.
        expect(
          run.anomalies.filter((a) => isOnFaultyEntity(a, truth) && a.ts < truth.startTs - run.stepMs),
        ).toEqual([])
      })

  it('a healthy cluster raises no metric, flow or log anomaly', async () => {
    for (const seed of SEEDS) {
      const run = await runScenarioThroughAnalyzers({
        scenario: 'none',
        seed,
        steps: STEPS,
        faultAtStep: FAULT_AT,
        faultSteps: 40,
      })
      expect(run.anomalies.map((a) => `${a.entity.name}: ${a.summary}`)).toEqual([])
    }
  })
})
