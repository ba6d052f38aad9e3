/**
 * A streaming anomaly detector for one metric series: online (each score uses only the points up
 * to it), constant work and memory per point.
 *
 * Three views of the series, each a deviation in units of the series' own spread:
 * - spike: the point against a slow exponentially weighted baseline (mean and deviation);
 * - level shift: a fast moving average against the slow one (a new level, not a single point);
 * - variance change: recent absolute changes against their long-run size.
 * The largest deviation is the raw score; its surprise is judged against how raw scores of this
 * series usually look (an anomaly likelihood, as Numenta's detectors do), so a noisy series does
 * not alarm all the time and a quiet one alarms on a small move. After an alarm the detector holds
 * back for a while: one incident, one alarm.
 *
 * Three rules on top: a value beyond the series' whole range is news; an extreme the series reached
 * at this time of day on an earlier day is routine (a nightly job); and ordinary spikes arriving far
 * more often than usual are news (a storm), however routine each one is.
 */

import { DAY_MS, DailyEnvelope } from './daily-envelope.js'
import { ExcursionRate } from './excursion-rate.js'

export type AnomalyKind = 'spike' | 'level_shift' | 'variance' | 'forecast' | 'novel_range' | 'spike_rate'
/** Which way is bad: latency and errors going up, throughput going down, or either. */
export type Direction = 'up' | 'down' | 'both'

export interface DetectorOptions {
  direction?: Direction
  /** Points before any score above zero: the baselines need data. */
  warmup?: number
  /** Points after an alarm during which further alarms are damped. */
  refractory?: number
  /**
   * A value further than this share of the series' whole range (so far) beyond its minimum or
   * maximum is an anomaly (0 turns it off). 0.05 is the spatial tolerance of Numenta's HTM
   * detector for NAB.
   */
  spatialTolerance?: number
}

export interface DetectorResult {
  /** Calibrated to [0, 1]: the probability that this is not ordinary for this series. */
  score: number
  kind: AnomalyKind
  observed: number
  expected: number
  /** Deviation in units of the series' usual spread. */
  deviation: number
  /** For a `spike_rate`: excursions in the last `window` points, and how many its long-run rate explains. */
  excursions?: { count: number; expected: number; window: number }
}

/** Exponentially weighted mean and mean absolute deviation. */
class EwStats {
  mean = 0
  deviation = 0
  n = 0
  constructor(private readonly alpha: number) {}
  update(x: number): void {
    if (this.n === 0) this.mean = x
    const a = Math.max(this.alpha, 1 / (this.n + 1))
    this.deviation += a * (Math.abs(x - this.mean) - this.deviation)
    this.mean += a * (x - this.mean)
    this.n++
  }
}

/** Standard normal upper tail. */
function tail(z: number): number {
  // Abramowitz-Stegun 7.1.26 erfc approximation; plenty for a score.
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x)
  return z >= 0 ? erfc / 2 : 1 - erfc / 2
}

/**
 * How much a level shift and a variance change weigh against a spike of the same size: a shift of
 * the fast average is smoother than a point, so it counts less (one global choice made on the NAB
 * development split, not per series).
 */
const LEVEL_SHIFT_WEIGHT = 0.8
const VARIANCE_WEIGHT = 0.5
const FORECAST_WEIGHT = 0.7
/** The score of a value beyond the series' range: above the alarm level, below certainty. */
const SPATIAL_SCORE = 0.9999
/** Below this raw deviation a value beyond the range is reported as that, not as a spike. */
const NOVEL_RANGE_RAW = 3
/** Points after which raw scores describe the series rather than its empty baselines. */
const RAW_SETTLE_POINTS = 10
/** A value within this share of its deviation of an earlier day's extreme at that hour repeats it. */
const ROUTINE_TOLERANCE = 0.25
/** Scores above this are alarms (NAB's optimised threshold lands between 0.99 and 0.999). */
const ALARM_SCORE = 0.99
/** A point this many spreads from its expectation is outside the series' usual band. */
const EXCURSION_BAND = 4
/**
 * A daily profile has at most this many slots (5 minutes each): finer data shares slots, which
 * keeps a profile at a few KiB, so 100,000 series fit in well under a gigabyte.
 */
const MAX_SEASON_SLOTS = 288
/** Slot statistics adapt over a few days, like the EwStats of the same alpha. */
const SLOT_ALPHA = 0.3

/** A baseline's spread, never zero: scores divide by it. */
const spread = (s: EwStats): number => Math.max(s.deviation, Math.abs(s.mean) * 1e-3, 1e-9)

/** A signed deviation as the detector's direction counts it (module-level: not a closure per point). */
const oriented = (direction: Direction, d: number): number =>
  direction === 'up' ? Math.max(0, d) : direction === 'down' ? Math.max(0, -d) : Math.abs(d)

/**
 * A daily profile: per time-of-day slot, the usual value and spread (exponentially weighted over
 * days). Says how much of the series' variation the time of day explains, so it is used only
 * where there is a daily cycle. Slots live in one typed array per series.
 */
class DailyProfile {
  /**
   * Per slot its mean, its mean absolute deviation and how many days it has seen (capped at
   * 65,535), in one buffer: each typed array costs a few hundred bytes of its own.
   */
  private readonly slots: Float32Array
  readonly slotMs: number
  readonly slotCount: number
  /** How wrong the profile's expectation is, against how wrong a flat baseline is. */
  readonly residual = new EwStats(0.01)
  readonly flat = new EwStats(0.01)
  constructor(intervalMs: number) {
    this.slotMs = Math.max(intervalMs, DAY_MS / MAX_SEASON_SLOTS)
    this.slotCount = Math.round(DAY_MS / this.slotMs)
    this.slots = new Float32Array(3 * this.slotCount)
  }
  slotOf(ts: number): number {
    return Math.floor((ts % DAY_MS) / this.slotMs) % this.slotCount
  }
  count(slot: number): number {
    return this.slots[2 * this.slotCount + slot] as number
  }
  mean(slot: number): number {
    return this.slots[slot] as number
  }
  update(slot: number, x: number): void {
    const s = this.slots
    const deviationAt = this.slotCount + slot
    const countAt = 2 * this.slotCount + slot
    const n = s[countAt] as number
    const mean = n === 0 ? x : (s[slot] as number)
    const a = Math.max(SLOT_ALPHA, 1 / (n + 1))
    s[deviationAt] = (s[deviationAt] as number) + a * (Math.abs(x - mean) - (s[deviationAt] as number))
    s[slot] = mean + a * (x - mean)
    if (n < 0xffff) s[countAt] = n + 1
  }
  /** The profile explains the series when its errors are well below a flat baseline's. */
  get explains(): boolean {
    return this.residual.n > 2 * this.slotCount && this.residual.mean < 0.6 * this.flat.mean
  }
}

export class StreamingDetector {
  private profile: DailyProfile | undefined
  private readonly envelope = new DailyEnvelope()
  private readonly excursions = new ExcursionRate()
  private firstTs: number | undefined
  private readonly slow = new EwStats(0.005)
  private readonly fast = new EwStats(0.1)
  private readonly changes = new EwStats(0.005)
  private readonly recentChanges = new EwStats(0.1)
  /** How raw scores usually look, for the likelihood. */
  private readonly rawLongRun = new EwStats(0.002)
  private readonly rawRecent = new EwStats(0.3)
  private previous: number | undefined
  private min = Infinity
  private max = -Infinity
  private seen = 0
  private quietUntil = 0
  private readonly direction: Direction
  private readonly warmup: number
  private readonly refractory: number
  private readonly spatialTolerance: number

  constructor(options: DetectorOptions = {}) {
    this.direction = options.direction ?? 'both'
    this.warmup = options.warmup ?? 50
    this.refractory = options.refractory ?? 100
    this.spatialTolerance = options.spatialTolerance ?? 0.05
  }

  /**
   * Scores `value`. `forecastDeviation`, when a learned model forecast this point, is the signed
   * distance from its forecast in units of the model's usual error; it competes with the
   * statistical views under the same calibration, so it adds what the model sees and nothing when
   * the model is no better than the baselines.
   */
  update(value: number, ts?: number, forecastDeviation?: number): DetectorResult {
    this.seen++
    if (ts !== undefined && this.profile === undefined) {
      if (this.firstTs === undefined) this.firstTs = ts
      else if (this.seen === 3) {
        const interval = (ts - this.firstTs) / 2
        if (interval > 0 && interval <= DAY_MS / 4) this.profile = new DailyProfile(interval)
      }
    }
    const profile = ts !== undefined ? this.profile : undefined
    const slot = profile?.slotOf(ts as number) ?? -1
    const slotMean = profile && slot >= 0 && profile.count(slot) > 0 ? profile.mean(slot) : undefined
    const seasonal = profile?.explains === true && slotMean !== undefined
    const expected = seasonal ? slotMean : this.slow.mean
    const signed = seasonal
      ? (value - slotMean) / Math.max(profile.residual.mean, Math.abs(slotMean) * 1e-3, 1e-9)
      : this.slow.n > 0
        ? (value - this.slow.mean) / spread(this.slow)
        : 0
    const shift = this.slow.n > 0 ? (this.fast.mean - this.slow.mean) / spread(this.slow) : 0
    const change = this.previous === undefined ? 0 : Math.abs(value - this.previous)
    const varianceRatio = this.changes.n > 0 ? this.recentChanges.mean / Math.max(this.changes.mean, 1e-9) : 1

    const direction = this.direction
    const candidates: Array<[AnomalyKind, number]> = [
      ['spike', oriented(direction, signed)],
      ['level_shift', oriented(direction, shift) * LEVEL_SHIFT_WEIGHT],
      ['variance', Math.max(0, Math.log2(Math.max(varianceRatio, 1e-9))) * VARIANCE_WEIGHT],
    ]
    if (forecastDeviation !== undefined)
      candidates.push(['forecast', oriented(direction, forecastDeviation) * FORECAST_WEIGHT])
    let best = candidates[0] as [AnomalyKind, number]
    for (const candidate of candidates) if (candidate[1] > best[1]) best = candidate
    let kind = best[0]
    const raw = best[1]

    // Likelihood: is the recent raw score unusual for this series?
    this.rawRecent.update(raw)
    const z = (this.rawRecent.mean - this.rawLongRun.mean) / Math.max(this.rawLongRun.deviation * 1.25, 1e-3)
    let score = this.seen > this.warmup && this.rawLongRun.n > this.warmup ? 1 - tail(z) : 0
    // The first points' raw scores measure baselines still forming (a spread of almost nothing), not
    // the series: they would inflate the long-run spread for hundreds of points.
    if (this.seen > RAW_SETTLE_POINTS) this.rawLongRun.update(raw)

    // Excursions arriving more often than this series' long-run rate: a storm of ordinary spikes.
    // Outside against the time of day and against the plain level too: where a daily profile is
    // steep, a few minutes' jitter leaves the profile's band but not the series' usual range.
    const flat = this.slow.n > 0 ? (value - this.slow.mean) / spread(this.slow) : 0
    const outside = oriented(direction, signed) > EXCURSION_BAND && oriented(direction, flat) > EXCURSION_BAND
    const rateScore = this.excursions.update(outside)
    // A storm is news even when each of its spikes alone is routine.
    const stormy = rateScore > ALARM_SCORE
    if (stormy) {
      score = Math.max(score, rateScore)
      kind = 'spike_rate'
    }

    // A value beyond everything the series has done so far is an anomaly whatever the
    // likelihood says: the statistics above adapt to a level, this remembers the whole range. Only
    // once the range spans a day: before that a daily cycle still reaches new lows and highs.
    let beyondRange = false
    const rangeSpansADay = ts === undefined || this.firstTs === undefined || ts - this.firstTs >= DAY_MS
    if (this.spatialTolerance > 0 && this.seen > this.warmup && rangeSpansADay && this.max > this.min) {
      const range = this.max - this.min
      const beyond =
        value > this.max ? (value - this.max) / range : value < this.min ? (value - this.min) / range : 0
      if (oriented(direction, beyond) > this.spatialTolerance) {
        beyondRange = true
        score = Math.max(score, SPATIAL_SCORE)
        if (raw < NOVEL_RANGE_RAW) kind = 'novel_range'
      }
    }
    this.min = Math.min(this.min, value)
    this.max = Math.max(this.max, value)
    // A value this extreme near this time of day on an earlier day is a routine (a nightly job),
    // not news; nor is an echo within an alarm's hold. A value beyond the whole range is news even then.
    const routine =
      !beyondRange &&
      !stormy &&
      ts !== undefined &&
      score > ALARM_SCORE &&
      value !== expected &&
      this.envelope.hasPrecedent(
        ts,
        value,
        value > expected ? 1 : -1,
        ROUTINE_TOLERANCE * Math.abs(value - expected),
      )
    if (routine) score *= 0.5
    else if (this.seen < this.quietUntil && !beyondRange) score *= 0.5
    else if (score > 0.999) this.quietUntil = this.seen + this.refractory

    if (ts !== undefined) this.envelope.update(ts, value)
    if (profile && slot >= 0) {
      if (slotMean !== undefined) profile.residual.update(Math.abs(value - slotMean))
      if (this.slow.n > 0) profile.flat.update(Math.abs(value - this.slow.mean))
      profile.update(slot, value)
    }
    this.slow.update(value)
    this.fast.update(value)
    this.changes.update(change)
    this.recentChanges.update(change)
    this.previous = value
    const result: DetectorResult = { score, kind, observed: value, expected, deviation: raw }
    if (kind === 'spike_rate') result.excursions = this.excursions.evidence()
    return result
  }
}
