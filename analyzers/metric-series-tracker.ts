import type { Anomaly, EntityRef, Severity } from '../core/index.js'
import { StreamingDetector } from './metric-detector.js'
import { INDICATORS, type IndicatorPoint, type IndicatorSpec } from './metric-indicators.js'

export interface MetricSeriesTrackerOptions {
  /** Series tracked at most; points of further series are counted in `untracked`, not scored. */
  maxSeries?: number
  /** Detector score from which a significant deviation is an anomaly. */
  threshold?: number
  /** Points a series needs before it can alarm. */
  warmupPoints?: number
  /** A series silent this long (sample time) is forgotten. */
  staleAfterMs?: number
}

interface SeriesState {
  detector: StreamingDetector
  firstTs: number
  lastTs: number
  /** Inside an anomaly episode: one anomaly per episode, not one per point. */
  anomalous: boolean
  calmPoints: number
  /** For error ratios: requests and failures seen so far, the baseline failure rate. */
  requests: number
  failures: number
  /** For error ratios: the last RECENT_POINTS intervals' requests then failures, as a ring. */
  recent?: Float64Array
  recentAt: number
  /** For counted rates: the usual units per request (EWMA), and the current run on one side of normal. */
  perEvent: number
  runObserved: number
  runExpected: number
  runSide: number
}

/** A score from which an indicator is unusual enough to count together with another of its entity. */
const SUSPICIOUS = 0.9
/** Failures alone make an anomaly only below this probability under the usual rate. */
const ALONE = 0.99999
/** Intervals whose requests and failures are judged together as well as one by one. */
const RECENT_POINTS = 6
/** Counted evidence short of ALONE stays below any threshold (it can still join another indicator). */
const SUSPICIOUS_CAP = 0.998
/**
 * Indicators that move together by construction (bytes follow requests): one of them unusual with
 * another of the same family is one piece of evidence, not two.
 */
const TRAFFIC = new Set(['request_rate', 'network_receive_bytes_per_s', 'network_transmit_bytes_per_s'])
/** Points in a row below threshold that end an episode. */
const CALM_POINTS_TO_END = 5
const SWEEP_EVERY_MS = 60_000

/**
 * One streaming detector per indicator series (pod or workload), and the rules that make a
 * detector's score an anomaly: the score is high, the change is in the bad direction and large
 * enough to matter for this indicator, and the series is not already in an episode.
 */
export class MetricSeriesTracker {
  private readonly series = new Map<string, SeriesState>()
  private readonly maxSeries: number
  private readonly threshold: number
  private readonly warmupPoints: number
  private readonly staleAfterMs: number
  private latestTs = 0
  private sweptTs = 0
  /** Per entity, the last indicator that was unusual but not enough alone. */
  private readonly suspects = new Map<string, { ts: number; indicator: string; score: number }>()
  untracked = 0

  constructor(options: MetricSeriesTrackerOptions = {}) {
    this.maxSeries = options.maxSeries ?? 100_000
    this.threshold = options.threshold ?? 0.999
    this.warmupPoints = options.warmupPoints ?? 50
    this.staleAfterMs = options.staleAfterMs ?? 30 * 60_000
  }

  get size(): number {
    return this.series.size
  }

  /** `forecastDeviation`: the point's distance from a learned model's forecast, when a model has one. */
  observe(point: IndicatorPoint, forecastDeviation?: number): Anomaly | undefined {
    const entity = entityOf(point)
    if (!entity) return undefined
    const key = `${point.cluster}/${entity.namespace ?? ''}/${entity.kind}/${entity.name}/${point.indicator}`
    const spec: IndicatorSpec = INDICATORS[point.indicator]
    let state = this.series.get(key)
    if (!state) {
      if (this.series.size >= this.maxSeries) {
        this.untracked++
        return undefined
      }
      state = {
        // No refractory hold: episodes (below) already make one anomaly of a run of unusual points,
        // and a hold started by an unusual point too small to matter would hide the fault after it.
        detector: new StreamingDetector({
          direction: spec.direction,
          warmup: this.warmupPoints,
          refractory: 0,
        }),
        firstTs: point.ts,
        lastTs: point.ts - 1,
        anomalous: false,
        calmPoints: 0,
        requests: 0,
        failures: 0,
        recentAt: 0,
        perEvent: 0,
        runObserved: 0,
        runExpected: 0,
        runSide: 0,
      }
      this.series.set(key, state)
    }
    if (point.ts <= state.lastTs) return undefined // a redelivery or an older point: already scored
    const previousTs = state.lastTs
    state.lastTs = point.ts
    if (point.ts > this.latestTs) this.latestTs = point.ts
    if (this.latestTs - this.sweptTs >= SWEEP_EVERY_MS) this.sweep()

    const result = state.detector.update(point.value, point.ts, forecastDeviation)
    // Error ratios are counts: judge the failures against the usual failure rate for this many requests.
    if (point.requests !== undefined && point.failures !== undefined) {
      const usual = (state.failures + 1) / (state.requests + 100)
      // Alone, failures must be very unlikely (many workloads, many intervals); together with another
      // unusual indicator, less so (see below).
      // A quiet service's interval holds a request or two: its last few intervals together say more.
      const recent = (state.recent ??= new Float64Array(2 * RECENT_POINTS))
      recent[state.recentAt] = point.requests
      recent[RECENT_POINTS + state.recentAt] = point.failures
      state.recentAt = (state.recentAt + 1) % RECENT_POINTS
      if (state.requests >= this.warmupPoints * 10) {
        let windowRequests = 0
        let windowFailures = 0
        for (let i = 0; i < RECENT_POINTS; i++) {
          windowRequests += recent[i] as number
          windowFailures += recent[RECENT_POINTS + i] as number
        }
        const surprise = Math.max(
          binomialSurprise(point.failures, point.requests, usual),
          point.failures > 0 ? binomialSurprise(windowFailures, windowRequests, usual) : 0,
        )
        // Counts decide: a ratio's own history says little when one failure moves it by a percent.
        result.score = surprise >= ALONE ? surprise : Math.min(surprise, this.threshold - 1e-6)
      } else result.score = 0
      state.failures += point.failures
      state.requests += point.requests
    }
    if (point.events !== undefined && point.intervalMs !== undefined)
      result.score = Math.min(result.score, countedSurprise(state, point, result.expected, result.score))
    const change = point.value - result.expected
    const oriented = spec.direction === 'up' ? change : spec.direction === 'down' ? -change : Math.abs(change)
    const significant =
      oriented >= Math.max(spec.minAbsoluteChange, spec.minRelativeChange * Math.abs(result.expected))
    const entityKey = key.slice(0, key.length - point.indicator.length - 1)
    let together: string | undefined
    if (significant && result.score < this.threshold && result.score >= SUSPICIOUS) {
      // Two indicators of one entity unusual at the same time are stronger evidence than either.
      const other = this.suspects.get(entityKey)
      const sameFamily = TRAFFIC.has(point.indicator) && TRAFFIC.has(other?.indicator ?? '')
      if (other && other.ts === point.ts && other.indicator !== point.indicator && !sameFamily) {
        const p = (1 - result.score) * (1 - other.score)
        const joint = 1 - p * (1 - Math.log(p))
        if (joint >= this.threshold) {
          together = other.indicator
          result.score = joint
        }
      } else this.suspects.set(entityKey, { ts: point.ts, indicator: point.indicator, score: result.score })
      if (this.suspects.size > this.maxSeries)
        this.suspects.delete(this.suspects.keys().next().value as string)
    }
    if (!(significant && result.score >= this.threshold)) {
      if (state.anomalous && ++state.calmPoints >= CALM_POINTS_TO_END) state.anomalous = false
      return undefined
    }
    state.calmPoints = 0
    if (state.anomalous) return undefined
    state.anomalous = true

    const relative = Math.abs(change) / Math.max(Math.abs(result.expected), 1e-9)
    const severity: Severity = result.score >= 0.9999 && relative >= 1 ? 'critical' : 'warning'
    const verb = change >= 0 ? 'rose' : 'dropped'
    const where = `${entity.kind}/${entity.name}`
    return {
      ts: point.ts,
      cluster: point.cluster,
      ...(point.namespace !== undefined && { namespace: point.namespace }),
      ...(point.workload !== undefined && { workload: point.workload }),
      ...(point.pod !== undefined && { pod: point.pod }),
      ...(point.node !== undefined && { node: point.node }),
      ...(point.service !== undefined && { service: point.service }),
      id: `metric:${key}:${point.ts}`,
      entity,
      signal: 'metric',
      kind: result.kind,
      score: result.score,
      severity,
      summary: `${point.indicator} of ${where} ${verb} to ${format(point.value)} ${spec.unit} (expected ${format(result.expected)})${together ? `, together with ${together}` : ''}`,
      attributes: {
        indicator: point.indicator,
        direction: spec.direction,
        movement: change >= 0 ? 'up' : 'down',
        deviation: result.deviation.toFixed(1),
        ...(point.workloadPods !== undefined && { workloadPods: String(point.workloadPods) }),
      },
      evidence: [
        {
          signal: 'metric',
          ts: point.ts,
          description: result.excursions
            ? `spike rate of ${point.indicator}: ${result.excursions.count} excursions in its last ${result.excursions.window} points, ${result.excursions.expected.toFixed(1)} expected at its usual rate`
            : `${result.kind.replace('_', ' ')} of ${point.indicator}, ${result.deviation.toFixed(1)} spreads from its baseline`,
          metric: point.indicator,
          observed: point.value,
          expected: result.expected,
          baselineFromTs: state.firstTs,
          baselineToTs: Math.max(previousTs, state.firstTs),
        },
      ],
    }
  }

  private sweep(): void {
    this.sweptTs = this.latestTs
    for (const [key, state] of this.series)
      if (this.latestTs - state.lastTs > this.staleAfterMs) this.series.delete(key)
  }
}

/**
 * How surprising a counted rate's current run is as Poisson counts: a quiet service scraped often
 * serves 0 requests in one interval and 5 in the next, which its rate's own history cannot tell
 * from an outage. The run (consecutive points on one side of the expected value) sums its counts,
 * so a real drop to zero becomes certain within a few intervals. Rates in other units (bytes) are
 * put in requests by their usual size per request, so a byte surge with as many requests still counts.
 */
function countedSurprise(state: SeriesState, point: IndicatorPoint, expected: number, score: number): number {
  const seconds = (point.intervalMs as number) / 1000
  const events = point.events as number
  const perEvent = state.perEvent
  if (events > 0 && point.value > 0) {
    const size = (point.value * seconds) / events
    state.perEvent = perEvent > 0 ? 0.9 * perEvent + 0.1 * size : size
  }
  if (!(perEvent > 0) || !(seconds > 0)) return score
  const observed = (point.value * seconds) / perEvent
  const lambda = (Math.max(expected, 0) * seconds) / perEvent
  const side = Math.sign(observed - lambda)
  if (side !== state.runSide || side === 0) {
    state.runSide = side
    state.runObserved = 0
    state.runExpected = 0
  }
  state.runObserved += observed
  state.runExpected += lambda
  if (score < SUSPICIOUS) return score // only ever lowers a score: no need to compute
  const surprise =
    side < 0
      ? 1 - poissonCdf(Math.round(state.runObserved), state.runExpected)
      : poissonCdf(Math.round(state.runObserved) - 1, state.runExpected)
  // As with failures: many series, many intervals; counts alone alarm only when very unlikely.
  return surprise >= ALONE ? surprise : Math.min(surprise, SUSPICIOUS_CAP)
}

/** P(X <= k) for X ~ Poisson(lambda): exact by terms for small lambda, normal approximation above. */
export function poissonCdf(k: number, lambda: number): number {
  if (k < 0) return 0
  if (!(lambda > 0)) return 1
  if (lambda > 100) {
    const z = (k + 0.5 - lambda) / Math.sqrt(lambda)
    return 0.5 * (1 + erf(z / Math.SQRT2))
  }
  let term = Math.exp(-lambda)
  let sum = term
  for (let i = 1; i <= k; i++) {
    term *= lambda / i
    sum += term
    if (term < 1e-15 && i > lambda) break
  }
  return Math.min(1, sum)
}

/** Abramowitz and Stegun 7.1.26 (error below 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496735) * t + 0.254829592) *
      t *
      Math.exp(-x * x)
  return x >= 0 ? y : -y
}

/**
 * 1 - P(X >= failures) for X ~ Binomial(requests, rate): how surprising this many failures are.
 * Exact in log space up to 2,000 requests, a normal approximation above.
 */
export function binomialSurprise(failures: number, requests: number, rate: number): number {
  const n = Math.round(requests)
  const k = Math.round(failures)
  if (k <= 0 || n <= 0) return 0
  if (k > n) return 1
  if (n > 2_000) {
    const mean = n * rate
    const sd = Math.sqrt(n * rate * (1 - rate)) || 1e-9
    const z = (k - 0.5 - mean) / sd
    return z <= 0 ? 0 : 1 - 0.5 * Math.exp(-0.717 * z - 0.416 * z * z)
  }
  let logTerm = logChoose(n, k) + k * Math.log(rate) + (n - k) * Math.log1p(-rate)
  let tail = 0
  for (let j = k; j <= n; j++) {
    tail += Math.exp(logTerm)
    logTerm += Math.log((n - j) / (j + 1)) + Math.log(rate) - Math.log1p(-rate)
    if (logTerm < -50 && j > n * rate) break
  }
  return Math.max(0, Math.min(1, 1 - tail))
}

function logChoose(n: number, k: number): number {
  let sum = 0
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i)
  return sum
}

function entityOf(point: IndicatorPoint): EntityRef | undefined {
  const place = {
    ...(point.namespace !== undefined && { namespace: point.namespace }),
    cluster: point.cluster,
  }
  if (point.pod !== undefined) return { kind: 'Pod', name: point.pod, ...place }
  if (point.workload) return { kind: point.workload.kind, name: point.workload.name, ...place }
  return undefined
}

const format = (value: number): string =>
  Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(2)
