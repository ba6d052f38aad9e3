/**
 * What a series has reached at each time of day on earlier days: per half-hour slot, the highest and
 * lowest values of the days before today. A nightly batch job's CPU spike or a backup's disk burst
 * is extreme against the series' usual level but has happened at that hour before; an operator
 * wants it reported once, not every night. Kept coarse (48 slots) so it costs well under a
 * kilobyte per series.
 */

export const DAY_MS = 86_400_000
const SLOTS = 48
const SLOT_MS = DAY_MS / SLOTS
/** A job that runs "around 3am" drifts by a few minutes a day: neighbouring slots count too. */
const NEIGHBOURS = 1

/** Offsets of the envelope's five per-slot fields in its one buffer. */
const EARLIER_HIGH = 0
const EARLIER_LOW = SLOTS
const DAY_HIGH = 2 * SLOTS
const DAY_LOW = 3 * SLOTS
const SLOT_DAY = 4 * SLOTS

export class DailyEnvelope {
  /**
   * Per slot: the extremes over the days before the slot's current day (NaN: no earlier day yet),
   * the extremes of that current day, and which day it is (a day number fits a float exactly). One
   * buffer, because each typed array costs a few hundred bytes of its own.
   */
  private readonly fields = new Float32Array(5 * SLOTS).fill(Number.NaN)

  /**
   * Whether a value this high (`direction` 1) or this low (-1) was reached near this time of day on
   * an earlier day, within `tolerance` (in the value's units).
   */
  hasPrecedent(ts: number, value: number, direction: 1 | -1, tolerance: number): boolean {
    const day = Math.floor(ts / DAY_MS)
    const slot = Math.floor((ts % DAY_MS) / SLOT_MS)
    for (let offset = -NEIGHBOURS; offset <= NEIGHBOURS; offset++) {
      const extreme = this.earlierExtreme((slot + offset + SLOTS) % SLOTS, day, direction)
      if (Number.isNaN(extreme)) continue
      if (direction === 1 ? value <= extreme + tolerance : value >= extreme - tolerance) return true
    }
    return false
  }

  update(ts: number, value: number): void {
    const f = this.fields
    const day = Math.floor(ts / DAY_MS)
    const slot = Math.floor((ts % DAY_MS) / SLOT_MS)
    const slotDay = f[SLOT_DAY + slot] as number
    if (slotDay !== day) {
      if (!Number.isNaN(slotDay)) {
        f[EARLIER_HIGH + slot] = fold(
          f[EARLIER_HIGH + slot] as number,
          f[DAY_HIGH + slot] as number,
          Math.max,
        )
        f[EARLIER_LOW + slot] = fold(f[EARLIER_LOW + slot] as number, f[DAY_LOW + slot] as number, Math.min)
      }
      f[SLOT_DAY + slot] = day
      f[DAY_HIGH + slot] = value
      f[DAY_LOW + slot] = value
      return
    }
    f[DAY_HIGH + slot] = Math.max(f[DAY_HIGH + slot] as number, value)
    f[DAY_LOW + slot] = Math.min(f[DAY_LOW + slot] as number, value)
  }

  /** The slot's extreme on days before `day`: its current day's counts once that day is past. */
  private earlierExtreme(slot: number, day: number, direction: 1 | -1): number {
    const f = this.fields
    const earlier = f[(direction === 1 ? EARLIER_HIGH : EARLIER_LOW) + slot] as number
    const slotDay = f[SLOT_DAY + slot] as number
    if (Number.isNaN(slotDay) || slotDay >= day) return earlier
    const dayExtreme = f[(direction === 1 ? DAY_HIGH : DAY_LOW) + slot] as number
    return fold(earlier, dayExtreme, direction === 1 ? Math.max : Math.min)
  }
}

function fold(earlier: number, latest: number, pick: (a: number, b: number) => number): number {
  return Number.isNaN(earlier) ? latest : pick(earlier, latest)
}
