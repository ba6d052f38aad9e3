/**
 * Root-cause ranking from two windows of service metrics: a normal one (the baseline) and an
 * abnormal one (the incident), on a call graph. The principles, none specific to one system:
 *
 * 1. Candidates are the target and everything it depends on (callees, transitively): a fault
 *    propagates to callers, so the cause of a symptom is downstream of where it shows.
 * 2. Follow the target's symptom: latency is explained by latency, errors by errors.
 * 3. A series is anomalous when it leaves its normal range (beyond the 95th percentile, or below
 *    the 5th) by several robust spreads, for a good part of the window (the k-th largest
 *    exceedance, with k a share of the window, so a single blip in a long window does not count).
 * 4. Among anomalous services, the cause is the one responsible for the most excess: extra
 *    seconds of latency times the requests that waited, or extra failed requests. A caller's
 *    latency includes its callee's, but a callee usually serves more requests than one caller
 *    sends, and an innocent caller's excess is what its callee added.
 * 5. When nothing is anomalous, the answer is empty: no cause beats a wrong one.
 */

export type Symptom = 'latency' | 'errors' | 'traffic'

export interface WindowSeries {
  service: string
  symptom: Symptom
  /** Which statistic of the symptom (Average, p99, ...): evidence only. */
  stat: string
  /** Per interval, oldest first; null where nothing was measured. */
  normal: ReadonlyArray<number | null>
  abnormal: ReadonlyArray<number | null>
}

export interface WindowRankInput {
  target: { service: string; symptom: Symptom }
  /** Call edges, caller first. */
  calls: ReadonlyArray<readonly [string, string]>
  series: readonly WindowSeries[]
  /** Usual requests per interval per service: what latency excess is weighted by. */
  volume: ReadonlyMap<string, number>
}

export interface WindowCause {
  service: string
  /** Share of the total excess of all anomalous candidates, in (0, 1]. */
  score: number
  /** The excess itself: seconds x requests for latency, failed or missing requests otherwise. */
  impact: number
  /** How far the series left its normal range, in robust spreads. */
  deviation: number
  symptom: Symptom
  stat: string
  /** The k-th largest value of the abnormal window against the edge of the normal range. */
  observed: number
  normalEdge: number
  explanation: string
}

export interface WindowRankOptions {
  /** Robust spreads beyond the normal range a series must reach to count (default 3). */
  minDeviation?: number
  /** Share of the abnormal window that must be that far out (default 0.4). */
  persistence?: number
}

interface Baseline {
  median: number
  spread: number
  low: number
  high: number
}

/** Spreads are at least this, per symptom: one request, or a millisecond-scale share of the level. */
const SPREAD_FLOOR: Record<Symptom, number> = { latency: 1e-9, errors: 1, traffic: 1 }
const MIN_BASELINE_POINTS = 10
/**
 * The normal range is the 5th to 95th percentile, not the extremes: a "normal" window often holds a
 * short disturbance of its own (an earlier incident, a deploy), and its worst points would hide a
 * real one. Beyond the edge a series must still go several robust spreads, for a good part of the
 * abnormal window. (On the PetShop development split the results are the same from 3% to 10%.)
 */
const EDGE_QUANTILE = 0.05

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
}

function baselineOf(values: ReadonlyArray<number | null>, symptom: Symptom): Baseline | undefined {
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length < MIN_BASELINE_POINTS) return undefined
  const median = quantile(sorted, 0.5)
  const deviations = sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b)
  const spread = Math.max(
    (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / 1.35,
    quantile(deviations, 0.5) * 1.4826,
    Math.abs(median) * 0.05,
    SPREAD_FLOOR[symptom],
  )
  return { median, spread, low: quantile(sorted, EDGE_QUANTILE), high: quantile(sorted, 1 - EDGE_QUANTILE) }
}

/** The k-th largest of the values, k a share of their count: "this far out for that long". */
function persistent(values: readonly number[], share: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => b - a)
  return sorted[Math.max(1, Math.ceil(share * sorted.length)) - 1] as number
}

/** Services the target depends on, itself included. */
function dependencyClosure(target: string, calls: WindowRankInput['calls']): Set<string> {
  const callees = new Map<string, string[]>()
  for (const [caller, callee] of calls) {
    const list = callees.get(caller) ?? []
    list.push(callee)
    callees.set(caller, list)
  }
  const seen = new Set([target])
  const stack = [target]
  while (stack.length > 0)
    for (const next of callees.get(stack.pop() as string) ?? [])
      if (!seen.has(next)) {
        seen.add(next)
        stack.push(next)
      }
  return seen
}

export function rankWindowRootCauses(input: WindowRankInput, options: WindowRankOptions = {}): WindowCause[] {
  const minDeviation = options.minDeviation ?? 3
  const share = options.persistence ?? 0.4
  const candidates = dependencyClosure(input.target.service, input.calls)
  const best = new Map<string, WindowCause>()
  for (const series of input.series) {
    if (series.symptom !== input.target.symptom || !candidates.has(series.service)) continue
    const baseline = baselineOf(series.normal, series.symptom)
    if (!baseline) continue
    // Latency and errors are bad upwards; traffic either way (a surge, or requests that stopped).
    const outside = (beyond: (v: number) => number): number =>
      persistent(
        series.abnormal.map((v) => (v === null || !Number.isFinite(v) ? 0 : Math.max(0, beyond(v)))),
        share,
      )
    const up = outside((v) => v - baseline.high)
    const down = series.symptom === 'traffic' ? outside((v) => baseline.low - v) : 0
    const falling = down > up
    const persistentExcess = falling ? down : up
    const deviation = persistentExcess / baseline.spread
    if (deviation < minDeviation) continue
    const weight = series.symptom === 'latency' ? (input.volume.get(series.service) ?? 0) : 1
    const impact = persistentExcess * Math.max(weight, 1)
    const current = best.get(series.service)
    if (current && current.impact >= impact) continue
    best.set(series.service, {
      service: series.service,
      score: 0,
      impact,
      deviation,
      symptom: series.symptom,
      stat: series.stat,
      observed: falling ? baseline.low - down : baseline.high + up,
      normalEdge: falling ? baseline.low : baseline.high,
      explanation: '',
    })
  }
  const ranked = [...best.values()].sort((a, b) => b.impact - a.impact || b.deviation - a.deviation)
  const total = ranked.reduce((sum, c) => sum + c.impact, 0)
  for (const cause of ranked) {
    cause.score = total > 0 ? cause.impact / total : 0
    cause.explanation = explain(cause, input.target.service)
  }
  return ranked
}

function explain(cause: WindowCause, target: string): string {
  const where = cause.service === target ? 'the target itself' : `a dependency of ${target}`
  const what =
    cause.symptom === 'latency'
      ? `${cause.stat} latency reached ${fmt(cause.observed)} s against a normal maximum of ${fmt(cause.normalEdge)} s`
      : cause.symptom === 'errors'
        ? `${fmt(cause.observed)} failed requests per interval against a normal maximum of ${fmt(cause.normalEdge)}`
        : `${fmt(cause.observed)} requests per interval, outside the normal ${fmt(cause.normalEdge)}`
  return `${cause.service} (${where}): ${what}, ${cause.deviation.toFixed(1)} spreads out, ${Math.round(cause.score * 100)}% of the excess`
}

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2)
