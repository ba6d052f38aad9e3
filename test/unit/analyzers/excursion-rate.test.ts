import { describe, expect, it } from 'vitest'
import { ExcursionRate } from '../../../analyzers/excursion-rate.js'

/** Scores of a series that is outside its band at the given points only. */
function run(length: number, outsideAt: (i: number) => boolean): number[] {
  const rate = new ExcursionRate(25)
  return Array.from({ length }, (_, i) => rate.update(outsideAt(i)))
}

describe('excursion rate', () => {
  it('finds nothing unusual in excursions at their usual rate, and alarms when they come five times as often', () => {
    const storm = 2000
    const scores = run(2400, (i) => (i < storm ? i % 100 === 0 : i % 5 === 0))
    expect(Math.max(...scores.slice(200, storm))).toBeLessThan(0.9)
    const firstAlarm = scores.findIndex((s, i) => i >= storm && s > 0.99)
    expect(firstAlarm).toBeGreaterThanOrEqual(storm)
    expect(firstAlarm).toBeLessThan(storm + 25)
  })

  it('counts a burst of consecutive outside points as one excursion', () => {
    // Bursts of five points every hundred: five outside points, one excursion each time.
    const scores = run(2000, (i) => i % 100 < 5)
    expect(Math.max(...scores.slice(200))).toBeLessThan(0.9)
  })

  it('scores nothing while its long run is too short to know the rate', () => {
    expect(run(100, (i) => i % 3 === 0).every((s) => s === 0)).toBe(true)
  })
})
