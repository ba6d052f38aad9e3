import { describe, expect, it } from 'vitest'
import { MetricSeriesTracker, type IndicatorName, type IndicatorPoint } from '../../../analyzers/index.js'
import type { Anomaly } from '../../../core/index.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const T0 = Date.parse('2026-11-01T00:00:00Z')

function run(
  tracker: MetricSeriesTracker,
  indicator: IndicatorName,
  values: number[],
  workload = 'checkout',
): Array<{ step: number; anomaly: Anomaly }> {
  const found: Array<{ step: number; anomaly: Anomaly }> = []
  values.forEach((value, step) => {
    const point: IndicatorPoint = {
      indicator,
      ts: T0 + step * 10_000,
      value,
      cluster: 'c1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: workload },
    }
    const anomaly = tracker.observe(point)
    if (anomaly) found.push({ step, anomaly })
  })
  return found
}

/** A noisy baseline of 200 points, then `after` for 30 points. */
function series(base: number, noise: number, after: number, seed = 7): number[] {
  const { next: random } = seededRandom(seed)
  return Array.from({ length: 230 }, (_, i) => (i < 200 ? base : after) + (random() - 0.5) * 2 * noise)
}

describe('metric series tracker', () => {
  it('reports a latency rise once per episode, at its onset, with evidence', () => {
    const tracker = new MetricSeriesTracker({ warmupPoints: 30 })
    const found = run(tracker, 'latency_seconds', series(0.05, 0.005, 0.25))
    expect(found).toHaveLength(1)
    const [{ step, anomaly }] = found as [{ step: number; anomaly: Anomaly }]
    expect(step).toBe(200)
    expect(anomaly).toMatchObject({
      signal: 'metric',
      entity: { kind: 'Deployment', name: 'checkout', namespace: 'shop' },
      attributes: { indicator: 'latency_seconds', direction: 'up' },
      severity: 'critical',
    })
    expect(anomaly.summary).toMatch(
      /^latency_seconds of Deployment\/checkout rose to 0\.2\d s \(expected 0\.05\d?\)$/,
    )
    expect(anomaly.evidence[0]).toMatchObject({ metric: 'latency_seconds', baselineFromTs: T0 })
    expect(anomaly.evidence[0]?.observed).toBeGreaterThan(0.2)
  })

  it('does not report a move in the harmless direction or one too small to matter', () => {
    const tracker = new MetricSeriesTracker({ warmupPoints: 30 })
    expect(run(tracker, 'latency_seconds', series(0.2, 0.005, 0.05), 'faster')).toEqual([])
    expect(run(tracker, 'error_ratio', series(0.001, 0.0001, 0.004), 'tiny')).toEqual([])
  })

  it('reports a throughput drop as well as a surge (request rate is bad both ways)', () => {
    const tracker = new MetricSeriesTracker({ warmupPoints: 30 })
    const [drop] = run(tracker, 'request_rate', series(100, 3, 10), 'dropping')
    expect(drop?.step).toBe(200)
    expect(drop?.anomaly.summary).toContain('dropped to')
  })

  it('scores at most maxSeries series and counts the points it leaves out', () => {
    const tracker = new MetricSeriesTracker({ maxSeries: 1 })
    run(tracker, 'cpu_cores', [1, 2, 3], 'a')
    run(tracker, 'cpu_cores', [1, 2, 3], 'b')
    expect(tracker.size).toBe(1)
    expect(tracker.untracked).toBe(3)
  })
})

describe('counted rates', () => {
  /** A quiet service scraped every second: whole requests, Poisson around `rate` per second. */
  function counted(rate: number, steps: number, seed: number, dropAt = Infinity): IndicatorPoint[] {
    const { next: random } = seededRandom(seed)
    const poisson = (mean: number): number => {
      let k = 0
      for (let p = random(); p > Math.exp(-mean); p *= random()) k++
      return k
    }
    return Array.from({ length: steps }, (_, step) => {
      const events = step >= dropAt ? 0 : poisson(rate)
      return {
        indicator: 'request_rate',
        ts: T0 + step * 1_000,
        value: events,
        events,
        intervalMs: 1_000,
        cluster: 'c1',
        namespace: 'shop',
        workload: { kind: 'Deployment', name: 'email' },
      }
    })
  }

  it('does not take a quiet service lumpy rate (0, then 3 requests/s) for an outage or a surge', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const tracker = new MetricSeriesTracker({ warmupPoints: 30 })
      const found = counted(1.2, 600, seed).flatMap((p) => tracker.observe(p) ?? [])
      expect(found.map((a) => a.summary)).toEqual([])
    }
  })

  it('reports traffic that stops, within the seconds its counts make that certain', () => {
    const tracker = new MetricSeriesTracker({ warmupPoints: 30 })
    const points = counted(20, 300, 9, 250)
    const found = points.flatMap((p, step) => {
      const anomaly = tracker.observe(p)
      return anomaly ? [{ step, anomaly }] : []
    })
    expect(found).toHaveLength(1)
    // 20 requests a second: no request for a second is already very unlikely (e^-20); the counts
    // hold nothing back, the detector's own two-sample rule at most.
    expect(found[0]?.step).toBeGreaterThanOrEqual(250)
    expect(found[0]?.step).toBeLessThanOrEqual(251)
    expect(found[0]?.anomaly.summary).toMatch(/request_rate of Deployment\/email dropped to 0/)
  })
})
