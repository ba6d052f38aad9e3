import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { rankWindowRootCauses, type WindowSeries } from '../../../analyzers/window-root-cause.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const { next } = seededRandom(9)
const noisy = (n: number, level: number, jitter = 0.1): number[] =>
  Array.from({ length: n }, () => level * (1 + (next() - 0.5) * 2 * jitter))

function latency(service: string, normal: number[], abnormal: number[]): WindowSeries {
  return { service, symptom: 'latency', stat: 'p99', normal, abnormal }
}

const calls = [
  ['web', 'api'],
  ['api', 'db'],
  ['api', 'cache'],
] as const
const volume = new Map([
  ['web', 500],
  ['api', 800],
  ['db', 1500],
  ['cache', 900],
])

describe('window root-cause ranking', () => {
  it('puts the slow dependency first, with evidence, and its slowed callers after it', () => {
    const ranked = rankWindowRootCauses({
      target: { service: 'web', symptom: 'latency' },
      calls,
      volume,
      series: [
        latency('web', noisy(200, 0.12), noisy(5, 0.32)),
        latency('api', noisy(200, 0.06), noisy(5, 0.26)),
        latency('db', noisy(200, 0.01), noisy(5, 0.21)),
        latency('cache', noisy(200, 0.002), noisy(5, 0.002)),
      ],
    })
    expect(ranked.map((c) => c.service)).toEqual(['db', 'api', 'web'])
    expect(ranked[0]?.explanation).toMatch(/^db \(a dependency of web\): p99 latency reached 0\.2\d s/)
    expect(ranked.reduce((sum, c) => sum + c.score, 0)).toBeCloseTo(1)
  })

  it('sees failures a normal window with a short earlier disturbance of its own would hide', () => {
    // 3% of the normal window is an earlier episode as bad as this one; the rest is clean.
    const failures = (n: number, level: number): number[] => Array.from({ length: n }, () => level * next())
    const normal = [...failures(18, 25), ...failures(582, 1)]
    const ranked = rankWindowRootCauses({
      target: { service: 'web', symptom: 'errors' },
      calls,
      volume,
      series: [
        { service: 'db', symptom: 'errors', stat: 'failed', normal, abnormal: [0, 20, 22, 18, 1] },
        { service: 'web', symptom: 'errors', stat: 'failed', normal, abnormal: [0, 1, 0, 1, 0] },
      ],
    })
    expect(ranked.map((c) => c.service)).toEqual(['db'])
  })

  it('answers nothing when no candidate left its normal range', () => {
    expect(
      rankWindowRootCauses({
        target: { service: 'web', symptom: 'latency' },
        calls,
        volume,
        series: [
          latency('web', noisy(200, 0.12), noisy(5, 0.12)),
          latency('db', noisy(200, 0.01), noisy(5, 0.01)),
        ],
      }),
    ).toEqual([])
  })

  it('ignores a single blip in a long window, and services the target does not depend on', () => {
    const blip = noisy(100, 0.01)
    blip[50] = 5
    expect(
      rankWindowRootCauses({
        target: { service: 'api', symptom: 'latency' },
        calls,
        volume,
        series: [latency('db', noisy(200, 0.01), blip), latency('web', noisy(200, 0.12), noisy(5, 3))],
      }),
    ).toEqual([])
  })

  it('weighs failures by volume: 5% of a busy service beats 50% of an idle one', () => {
    const failures = (n: number, level: number): number[] => noisy(n, level, 0.2).map(Math.round)
    const ranked = rankWindowRootCauses({
      target: { service: 'web', symptom: 'errors' },
      calls,
      volume,
      series: [
        {
          service: 'db',
          symptom: 'errors',
          stat: 'failed',
          normal: failures(200, 2),
          abnormal: failures(5, 75),
        },
        {
          service: 'cache',
          symptom: 'errors',
          stat: 'failed',
          normal: failures(200, 0),
          abnormal: [5, 5, 6, 5, 5],
        },
      ],
    })
    expect(ranked.map((c) => c.service)).toEqual(['db', 'cache'])
  })
})

describe('argus rca offline', () => {
  const argus = (input: string) =>
    spawnSync('node', ['bin/argus.js', 'rca', 'offline'], { input, encoding: 'utf8', timeout: 30_000 })

  it('reads a case on stdin and prints the ranking, best first, or an empty one for a healthy window', () => {
    const slow = JSON.parse(
      execFileSync('node', ['bin/argus.js', 'rca', 'offline'], {
        input: readFileSync('test/fixtures/rca/slow-db.json'),
        encoding: 'utf8',
      }),
    ) as { rootCauses: Array<{ service: string; score: number }> }
    expect(slow.rootCauses.map((c) => c.service)).toEqual(['db', 'api', 'web'])
    expect(slow.rootCauses[0]?.score).toBeGreaterThan(0.5)
    const healthy = argus(readFileSync('test/fixtures/rca/healthy.json', 'utf8'))
    expect(JSON.parse(healthy.stdout)).toEqual({ rootCauses: [] })
  })

  it('refuses input that is not a case with exit code 2 and a message naming what is wrong', () => {
    const notJson = argus('{"calls": [')
    expect(notJson.status).toBe(2)
    expect(notJson.stderr).toMatch(/^argus: stdin is not JSON/)
    const wrongShape = argus(JSON.stringify({ calls: [], target: { service: 'web', metric: 'cpu' } }))
    expect(wrongShape.status).toBe(2)
    expect(wrongShape.stderr).toMatch(/does not match the expected shape/)
  })
})
