import { describe, expect, it } from 'vitest'
import type { Incident, RootCause } from '../../core/index.js'
import { FAULT_KINDS, type GroundTruth } from '../../sim/index.js'
import { runScenarioThroughAnalyzers, type SimRun } from '../helpers/sim-pipeline.js'

// Every simulated fault, several seeds, through intake, bus, analyzers and the incident
// correlator: the injected root cause must rank first in at least 90% of the runs.
const SEEDS = [1, 2, 3]

/** The incident the fault opened (the one with most anomalies during it) and its latest ranking. */
function rankingOf(run: SimRun, truth: GroundTruth): { incident?: Incident; ranking: RootCause[] } {
  const latest = new Map<string, Incident>()
  for (const incident of run.incidents) latest.set(incident.id, incident)
  const incident = [...latest.values()]
    .filter((i) => i.openedAt >= truth.startTs - 2 * run.stepMs && i.openedAt <= truth.endTs)
    .sort((a, b) => b.anomalyIds.length - a.anomalyIds.length)[0]
  if (!incident) return { ranking: [] }
  const causes = run.rootCauses.filter((r) => r.incidentId === incident.id)
  const newest = Math.max(...causes.map((r) => r.ts))
  return { incident, ranking: causes.filter((r) => r.ts === newest).sort((a, b) => a.rank - b.rank) }
}

describe('root cause on the simulator', () => {
  it('ranks the injected root cause first in at least 90% of runs across faults and seeds', async () => {
    const outcomes: string[] = []
    let first = 0
    for (const seed of SEEDS)
      for (const fault of FAULT_KINDS) {
        const run = await runScenarioThroughAnalyzers({
          scenario: fault,
          seed,
          steps: 160,
          faultAtStep: 100,
          faultSteps: 40,
        })
        const truth = run.truth as GroundTruth
        const { incident, ranking } = rankingOf(run, truth)
        const top = ranking[0]
        const hit = top?.entity.name === truth.rootCause.name
        if (hit) first++
        outcomes.push(
          `${hit ? 'first' : 'MISSED'} ${fault} seed ${seed}: ${top ? `${top.entity.kind}/${top.entity.name}` : 'nothing'}`,
        )
        // Whatever ranks first comes with evidence and an explanation a person can check.
        if (top) {
          expect(top.evidence.length, fault).toBeGreaterThan(0)
          expect(top.explanation, fault).toMatch(new RegExp(top.entity.name))
          expect(incident?.title, fault).toContain(`${top.entity.kind}/${top.entity.name}`)
        }
      }
    const runs = SEEDS.length * FAULT_KINDS.length
    expect(first / runs, outcomes.join('\n')).toBeGreaterThanOrEqual(0.9)
  }, 180_000)

  it('a healthy cluster opens no incident', async () => {
    const run = await runScenarioThroughAnalyzers({
      scenario: 'none',
      seed: 4,
      steps: 160,
      faultAtStep: 100,
      faultSteps: 40,
    })
    expect(run.incidents).toEqual([])
  })
})
