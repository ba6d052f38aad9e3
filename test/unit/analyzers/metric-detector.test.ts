import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StreamingDetector, type DetectorResult } from '../../../analyzers/metric-detector.js'

// Synthetic series of our own: noise with a known anomaly at a known point.
let seed = 1
const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
const noise = (): number => (random() + random() + random() - 1.5) * 2

function scores(values: number[], options = {}): DetectorResult[] {
  const detector = new StreamingDetector(options)
  return values.map((v, i) => detector.update(v, Date.parse('2026-01-01T00:00:00Z') + i * 300_000))
}

const dir = mkdtempSync(join(tmpdir(), 'argus-detect-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('streaming metric detector', () => {
  it('scores a spike high and ordinary noise low', () => {
    const values = Array.from({ length: 1500 }, () => 100 + noise())
    values[1200] = 160
    const result = scores(values)
    expect(result[1200]?.score).toBeGreaterThan(0.99)
    expect(result[1200]?.kind).toBe('spike')
    const ordinary = result.slice(400, 1190).filter((r) => r.score > 0.99)
    expect(ordinary.length).toBeLessThan(4)
  })

  it('notices a level shift soon after it starts', () => {
    const values = Array.from({ length: 1500 }, (_, i) => (i < 1000 ? 50 : 62) + noise())
    const result = scores(values)
    const first = result.findIndex((r, i) => i >= 1000 && r.score > 0.99)
    expect(first).toBeGreaterThanOrEqual(1000)
    expect(first).toBeLessThan(1020)
  })

  it('notices a trend change: a slow climb no single step shows (a leak) alarms while it climbs', () => {
    // Each step rises by a tenth of the noise; after 150 steps the level is 15 noise units up.
    const values = Array.from({ length: 1500 }, (_, i) => 50 + (i < 1000 ? 0 : (i - 1000) * 0.1) + noise())
    const result = scores(values, { direction: 'up' })
    const first = result.findIndex((r, i) => i >= 1000 && r.score > 0.99)
    expect(first).toBeGreaterThan(1000)
    expect(first).toBeLessThan(1150)
    expect(result.slice(400, 1000).filter((r) => r.score > 0.99).length).toBeLessThan(4)
  })

  it('learns a daily cycle: the usual peak is not an anomaly, a peak at night is', () => {
    const day = 288 // 5-minute points
    const values = Array.from(
      { length: day * 8 },
      (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / day) + noise(),
    )
    const night = day * 7 + Math.round(day * 0.75) // the trough
    values[night] = 140 // a daytime value at night
    const result = scores(values)
    const peaks = result.slice(day * 5, day * 7).filter((r) => r.score > 0.99)
    expect(peaks.length).toBeLessThan(4)
    expect(result[night]?.score).toBeGreaterThan(0.99)
  })

  it('alarms on a value beyond the range of everything before, once that range spans a day', () => {
    // 5-minute points: a busy, noisy series with a daily swing, three days of it.
    const day = 288
    const series = (length: number) =>
      Array.from({ length }, (_, i) => 100 + 40 * Math.sin((2 * Math.PI * i) / day) + 15 * noise())
    const values = series(3 * day)
    const range = Math.max(...values.slice(0, 2 * day)) - Math.min(...values.slice(0, 2 * day))
    // A value 15 % of the range above the highest so far: beyond anything this series did.
    values[2 * day + 60] = Math.max(...values.slice(0, 2 * day + 60)) + 0.15 * range
    // Another, higher still, while the first one's alarm holds later alarms down: news all the same.
    values[2 * day + 72] = Math.max(...values.slice(0, 2 * day + 72)) + 0.15 * range
    const withRange = scores(values)
    expect(withRange[2 * day + 60]?.score).toBeGreaterThanOrEqual(0.9999)
    expect(withRange[2 * day + 72]?.score).toBeGreaterThanOrEqual(0.9999)
    expect(scores(values, { spatialTolerance: 0 })[2 * day + 72]?.score).toBeLessThan(0.9999)
    // In the first day the daily swing itself still reaches new highs: no alarm from the range.
    const firstDay = series(day)
    const early = scores(firstDay)
    const earlyWithout = scores(firstDay, { spatialTolerance: 0 })
    expect(early.map((r) => r.score)).toEqual(earlyWithout.map((r) => r.score))
  })

  it('reports a nightly job once: the same burst at the same hour on later nights is routine, at another hour it is news', () => {
    const day = 288
    // Its own noise, so the other tests' series stay as they were.
    let local = 7
    const jitter = (): number => ((local = (local * 16_807) % 2_147_483_647) / 2_147_483_647 - 0.5) * 0.4
    const values = Array.from({ length: day * 6 }, () => 5 + jitter())
    // A backup at about 03:00 (drifting by a few minutes) lifts CPU to about 40 for one point,
    // from the second night on.
    const burst = (d: number): number => d * day + 36 + (d % 3)
    for (let d = 1; d <= 4; d++) values[burst(d)] = 36 + d
    const offHour = 5 * day + 150 // 12:30 on the last day, the same size
    values[offHour] = 40
    const result = scores(values, { spatialTolerance: 0 })
    expect(result[burst(1)]?.score).toBeGreaterThan(0.99)
    for (let d = 2; d <= 4; d++) expect(result[burst(d)]?.score).toBeLessThan(0.99)
    expect(result[offHour]?.score).toBeGreaterThan(0.99)
  })

  it('alarms when spikes it has learned to expect start coming far more often (flapping)', () => {
    let local = 11
    const jitter = (): number => ((local = (local * 16_807) % 2_147_483_647) / 2_147_483_647 - 0.5) * 0.4
    const storm = 1600
    // Every 47 points (about 4 hours, so at every hour over the days: each spike alone is routine)
    // a spike to 20; from `storm` on, every 6 points.
    const values = Array.from({ length: 2000 }, (_, i) =>
      i % (i < storm ? 47 : 6) === 0 ? 20 : 1 + jitter(),
    )
    const result = scores(values, { spatialTolerance: 0 })
    const alarm = result.findIndex((r, i) => i >= storm && r.score > 0.99 && r.kind === 'spike_rate')
    expect(alarm).toBeGreaterThanOrEqual(storm)
    expect(alarm).toBeLessThan(storm + 30)
    // The evidence: several excursions in the window where its long-run rate explains about one.
    const evidence = result[alarm]?.excursions
    expect(evidence?.window).toBe(25)
    expect(evidence?.count).toBeGreaterThanOrEqual(3)
    expect(evidence?.expected).toBeLessThan(1)
  })

  it('is direction-aware: a drop does not alarm when only rises are bad', () => {
    const values = Array.from({ length: 1500 }, () => 100 + noise())
    values[1200] = 40
    expect(scores(values, { direction: 'up' })[1200]?.score).toBeLessThan(0.5)
    expect(scores(values, { direction: 'down' })[1200]?.score).toBeGreaterThan(0.99)
  })

  it('is online: a score does not change with what comes after it', () => {
    const values = Array.from({ length: 800 }, () => 10 + noise())
    const full = scores(values).map((r) => r.score)
    const prefix = scores(values.slice(0, 500)).map((r) => r.score)
    expect(full.slice(0, 500)).toEqual(prefix)
  })

  it('argus detect writes one scored row per input row, and refuses a row that is not a number', () => {
    const input = join(dir, 'series.csv')
    const rows = Array.from(
      { length: 300 },
      (_, i) => `2026-01-01 00:${String(i % 60).padStart(2, '0')}:00,${i === 250 ? 500 : 10 + noise()}`,
    )
    writeFileSync(input, `timestamp,value\n${rows.join('\n')}\n`)
    const output = join(dir, 'scored.csv')
    execFileSync(process.execPath, ['bin/argus.js', 'detect', '--input', input, '--output', output])
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n')
    expect(lines[0]).toBe('timestamp,value,anomaly_score')
    expect(lines).toHaveLength(301)
    const scored = lines.slice(1).map((l) => Number(l.split(',')[2]))
    expect(scored.every((s) => s >= 0 && s <= 1)).toBe(true)
    expect(scored[250]).toBeGreaterThan(0.99)

    writeFileSync(input, 'timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,lots\n')
    const failed = spawnSync(
      process.execPath,
      ['bin/argus.js', 'detect', '--input', input, '--output', output],
      {
        encoding: 'utf8',
      },
    )
    expect(failed.status).not.toBe(0)
    expect(failed.stderr).toContain('line 3: value "lots" is not a number')
  })

  it('argus detect scores a directory of series in one run, each online with its learned model too', () => {
    const corpus = join(dir, 'corpus')
    const scoredDir = join(dir, 'corpus-scored')
    mkdirSync(join(corpus, 'hosts'), { recursive: true })
    // 700 rows: the learned forecaster trains after 500, so its scores are checked too.
    const rows = Array.from(
      { length: 700 },
      (_, i) =>
        `2026-01-${String(1 + Math.floor(i / 288)).padStart(2, '0')} ${String(Math.floor((i % 288) / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00,${(50 + 10 * Math.sin(i / 9) + noise()).toFixed(3)}`,
    )
    writeFileSync(join(corpus, 'hosts', 'full.csv'), `timestamp,value\n${rows.join('\n')}\n`)
    writeFileSync(join(corpus, 'hosts', 'prefix.csv'), `timestamp,value\n${rows.slice(0, 600).join('\n')}\n`)
    writeFileSync(join(corpus, 'notes.txt'), 'not a series')
    const detect = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, ['bin/argus.js', 'detect', '--input', corpus, '--output', scoredDir], {
        encoding: 'utf8',
      })
    expect(detect().status).toBe(0)
    const scoresOf = (name: string): string[] =>
      readFileSync(join(scoredDir, 'hosts', name), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(1)
    expect(scoresOf('full.csv')).toHaveLength(700)
    // Online: the first 600 scores do not depend on the 100 rows after them, model included.
    expect(scoresOf('full.csv').slice(0, 600)).toEqual(scoresOf('prefix.csv'))
    expect(existsSync(join(scoredDir, 'notes.txt'))).toBe(false)

    // A bad row in any file fails the run, naming the file and line.
    writeFileSync(join(corpus, 'hosts', 'prefix.csv'), 'timestamp,value\n2026-01-01 00:00:00,n/a\n')
    const failed = detect()
    expect(failed.status).not.toBe(0)
    expect(failed.stderr).toContain('prefix.csv line 2: value "n/a" is not a number')
  })
})
