import type { Direction } from './metric-detector.js'
import {
  StreamIdHasher,
  checkMetricSeries,
  type MetricBatch,
  type MetricSample,
  type MetricSeries,
  type WorkloadRef,
} from '../core/index.js'

/**
 * The health indicators Argus watches, derived from the raw series kubelets, cAdvisor and services
 * expose: counters become rates, histograms a mean latency, status codes an error ratio. Each has
 * the direction that is bad and the smallest change worth an anomaly (absolute, and relative to the
 * expected value), so a perfectly flat series does not alarm on a rounding step.
 */
export interface IndicatorSpec {
  direction: Direction
  minAbsoluteChange: number
  minRelativeChange: number
  unit: string
}

export const INDICATORS = {
  cpu_cores: { direction: 'up', minAbsoluteChange: 0.05, minRelativeChange: 0.5, unit: 'cores' },
  cpu_throttled_per_s: { direction: 'up', minAbsoluteChange: 1, minRelativeChange: 0.5, unit: 'periods/s' },
  memory_limit_ratio: { direction: 'up', minAbsoluteChange: 0.03, minRelativeChange: 0.05, unit: 'of limit' },
  memory_bytes: { direction: 'up', minAbsoluteChange: 16 * 2 ** 20, minRelativeChange: 0.1, unit: 'bytes' },
  network_receive_bytes_per_s: {
    direction: 'both',
    minAbsoluteChange: 10_000,
    minRelativeChange: 0.5,
    unit: 'bytes/s',
  },
  network_transmit_bytes_per_s: {
    direction: 'both',
    minAbsoluteChange: 10_000,
    minRelativeChange: 0.5,
    unit: 'bytes/s',
  },
  request_rate: { direction: 'both', minAbsoluteChange: 0.5, minRelativeChange: 0.3, unit: 'requests/s' },
  error_ratio: { direction: 'up', minAbsoluteChange: 0.02, minRelativeChange: 0.5, unit: 'of requests' },
  latency_seconds: { direction: 'up', minAbsoluteChange: 0.005, minRelativeChange: 0.3, unit: 's' },
} satisfies Record<string, IndicatorSpec>
export type IndicatorName = keyof typeof INDICATORS

/** Pod indicators: what one pod can get wrong on its own (a hot or leaking pod, a bad replica). */
const POD_INDICATORS: readonly IndicatorName[] = [
  'cpu_cores',
  'cpu_throttled_per_s',
  'memory_limit_ratio',
  'memory_bytes',
  'error_ratio',
  'latency_seconds',
]

/** A point of one indicator for one pod or one workload. */
export interface IndicatorPoint {
  indicator: IndicatorName
  ts: number
  value: number
  cluster: string
  namespace?: string
  workload?: WorkloadRef
  /** Set for pod points; workload points aggregate the workload's live pods. */
  pod?: string
  /** For error_ratio: requests and failed requests in the interval (a ratio of 2 in 14 is not 2,000 in 14,000). */
  requests?: number
  failures?: number
  /**
   * For request_rate and network rates: requests counted in the interval and its length, so a
   * quiet service's lumpy rate (0, then 5 requests/s, at short scrape intervals) is judged as counts.
   */
  events?: number
  intervalMs?: number
  /** For pod points: live pods in its workload (one hot pod of ten is the pod's problem). */
  workloadPods?: number
  node?: string
  service?: string
}

interface Counts {
  requests?: number
  failures?: number
  events?: number
  intervalMs?: number
}

type Family =
  | 'cpu'
  | 'throttled'
  | 'memory'
  | 'limit'
  | 'rx'
  | 'tx'
  | 'requests'
  | 'errors'
  | 'latencySum'
  | 'latencyCount'
const RATE_FAMILIES = new Set<Family>([
  'cpu',
  'throttled',
  'rx',
  'tx',
  'requests',
  'errors',
  'latencySum',
  'latencyCount',
])

interface Part {
  /** Last raw value and time (for rates: the counter). */
  raw: number
  rawTs: number
  /** Latest derived value: the rate, or the gauge. */
  value: number | undefined
  /** Latency parts keep the per-interval increase, not a rate: sums and counts divide directly. */
  increase: number | undefined
}

/** A sum of the parts' values that are defined, and how many are: none is no value, not zero. */
interface DefinedSum {
  sum: number
  count: number
}

interface FamilySums {
  value: DefinedSum
  increase: DefinedSum
  /** Changes since the sums were added up from the parts, so rounding error cannot build up. */
  changes: number
}

const newSums = (): FamilySums => ({
  value: { sum: 0, count: 0 },
  increase: { sum: 0, count: 0 },
  changes: 0,
})

/** One part's contribution to a sum goes from `before` to `after` (either may be undefined). */
function replaceInSum(total: DefinedSum, before: number | undefined, after: number | undefined): void {
  if (before !== undefined) {
    total.sum -= before
    total.count--
  }
  if (after !== undefined) {
    total.sum += after
    total.count++
  }
}

interface PodState {
  cluster: string
  namespace?: string
  workload?: WorkloadRef
  pod: string
  node?: string
  service?: string
  workloadKey?: string
  /** By series (see `partId`). */
  parts: Map<number, Part>
  families: Map<Family, Set<number>>
  /** Per family, its parts' sums, kept as they change: flushes read them for every dirty pod. */
  sums: Map<Family, FamilySums>
  lastTs: number
  /**
   * The time of the last pod points flushed. A scrape's series come in several requests (a
   * Prometheus shards them by series), so a pod is changed again at a time already flushed; its
   * points would be dropped by the tracker as already scored, so they are not made again.
   */
  flushedTs: number
  /** The sample time this pod last joined its workload's round at (see `joinRound`). */
  joinedTs: number
  /** The interval between this pod's last two points, for staleness. */
  intervalMs: number
  /** Series ids routed to this pod (see `Route`), forgotten with it. */
  routed?: string[]
  /** The bus partition its samples come on (one per pod: the key is its workload's). */
  partition?: number
}

/**
 * Where a series' samples go, found once per series by its `seriesId` (a receiver sets it when it
 * decodes a series once for all its samples): its pod, family and parts. The same objects a sample
 * without an id reaches through the pod index and `partId`; the route only saves finding them again
 * (three map lookups, two name patterns and hashing the labels per sample).
 */
interface Route {
  pod: PodState
  family: Family
  part: Part
  sums: FamilySums
  /** For request series whose status is a server error: the part counting them as errors. */
  errors?: { part: Part; sums: FamilySums }
}

const HTTP_REQUESTS = /(^|_)(http|grpc)_?(server_)?requests?_total$|^requests_total$/
const LATENCY = /(_duration_seconds|_latency_seconds)_(sum|count)$/
/** Sample time between sweeps for pods gone for good. */
const SWEEP_EVERY_MS = 60_000
const STATUS_LABELS = ['code', 'status', 'status_code', 'grpc_code']

/** The raw metric names indicators are made of, and name patterns (RE2 and JavaScript alike): what history replays read. */
export const INDICATOR_SOURCE_NAMES: readonly string[] = [
  'container_cpu_usage_seconds_total',
  'container_cpu_cfs_throttled_periods_total',
  'container_memory_working_set_bytes',
  'container_spec_memory_limit_bytes',
  'container_network_receive_bytes_total',
  'container_network_transmit_bytes_total',
]
export const INDICATOR_SOURCE_PATTERNS: readonly string[] = [HTTP_REQUESTS.source, LATENCY.source]

/** Which family a raw sample feeds, if any: everything else is stored, not analysed here. */
function familyOf(sample: { name: string }): Family | undefined {
  const name = sample.name
  switch (name) {
    case 'container_cpu_usage_seconds_total':
      return 'cpu'
    case 'container_cpu_cfs_throttled_periods_total':
      return 'throttled'
    case 'container_memory_working_set_bytes':
      return 'memory'
    case 'container_spec_memory_limit_bytes':
      return 'limit'
    case 'container_network_receive_bytes_total':
      return 'rx'
    case 'container_network_transmit_bytes_total':
      return 'tx'
  }
  if (HTTP_REQUESTS.test(name)) return 'requests'
  const latency = LATENCY.exec(name)
  if (latency) return latency[2] === 'sum' ? 'latencySum' : 'latencyCount'
  return undefined
}

function isServerError(labels: Record<string, string>): boolean {
  for (const label of STATUS_LABELS) {
    const code = labels[label]
    if (code === undefined) continue
    // HTTP 5xx; gRPC codes that mean the server failed (Unknown, DeadlineExceeded, Internal, Unavailable...).
    return (
      /^5\d\d$/.test(code) ||
      /^(2|4|13|14|15|Unknown|DeadlineExceeded|Internal|Unavailable|DataLoss)$/.test(code)
    )
  }
  return false
}

/** Adds a family's sums up again from its parts (exact), after `RESUM_AFTER_CHANGES_PER_PART` changes each. */
function resum(pod: PodState, family: Family, sums: FamilySums): void {
  Object.assign(sums, newSums())
  for (const key of pod.families.get(family) ?? []) {
    const part = pod.parts.get(key)
    replaceInSum(sums.value, undefined, part?.value)
    replaceInSum(sums.increase, undefined, part?.increase)
  }
}
const RESUM_AFTER_CHANGES_PER_PART = 8

/** The sum over pods of a family's latest values (or increases), undefined when none has one. */
function total(
  pods: readonly PodState[],
  family: Family,
  field: 'value' | 'increase' = 'value',
): number | undefined {
  let sum: number | undefined
  for (const pod of pods) {
    const sums = pod.sums.get(family)
    if (!sums) continue
    if (sums.changes > RESUM_AFTER_CHANGES_PER_PART * (pod.families.get(family)?.size ?? 0))
      resum(pod, family, sums)
    const defined = sums[field]
    if (defined.count > 0) sum = (sum ?? 0) + defined.sum
  }
  return sum
}

/** A part's next sample: a gauge takes its value, a counter's increase becomes a rate; its family's sums follow. */
function updatePart(part: Part, sums: FamilySums, family: Family, ts: number, raw: number): void {
  const value = part.value
  const increase = part.increase
  if (!RATE_FAMILIES.has(family)) {
    part.value = raw
    part.rawTs = ts
  } else {
    const seconds = (ts - part.rawTs) / 1000
    if (seconds <= 0) return
    // A counter that went down was reset (a container restart): it counted up from zero since.
    const counted = raw >= part.raw ? raw - part.raw : raw
    part.increase = counted
    part.value = counted / seconds
    part.raw = raw
    part.rawTs = ts
  }
  // The family's sums follow the part: out with its old value and increase, in with the new.
  replaceInSum(sums.value, value, part.value)
  replaceInSum(sums.increase, increase, part.increase)
  sums.changes++
}

/**
 * A series of a pod, by its name and labels (label names sorted; remote_write sends them sorted
 * already), as a number: the stream id's hash cut to 53 bits, where a key string built per sample
 * was a third of this class's time and most of its garbage. Errors parts hash apart from their request
 * series. Two series of one pod (hundreds at most) share an id with a chance under 1 in 10^10.
 */
function partId(sample: MetricSample, errors: boolean): number {
  const labels = sample.labels
  const names = Object.keys(labels)
  for (let i = 1; i < names.length; i++)
    if ((names[i - 1] as string) > (names[i] as string)) {
      names.sort()
      break
    }
  const hasher = partHasher.begin()
  if (errors) hasher.add('errors')
  hasher.add(sample.name)
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    hasher.add(name).add(labels[name] as string)
  }
  return hasher.numericId()
}
const partHasher = new StreamIdHasher()

export interface MetricIndicatorsOptions {
  /** Pods tracked at most; samples of further pods are counted as not tracked. */
  maxPods?: number
  /** A pod that has sent nothing for this many of its intervals leaves its workload's aggregate. */
  staleIntervals?: number
}

/**
 * Turns raw metric samples into indicator points per pod and per workload. Samples are added as
 * they arrive; `flush` returns the points of every pod and workload that got new data since the
 * last flush. A workload's point aggregates its live pods at one scrape time, once all of them
 * have reported it, so pods replaced by a rollout hand over without the workload's series
 * restarting.
 */
export class MetricIndicators {
  /** The pods tracked, by cluster, namespace and name: found per sample without building a key. */
  private readonly podIndex = new Map<string, Map<string, Map<string, PodState>>>()
  private readonly pods = new Set<PodState>()
  private readonly dirtyPods = new Set<PodState>()
  private readonly maxPods: number
  private readonly staleIntervals: number
  /** Samples of pods beyond `maxPods`: the caller counts them. */
  untracked = 0
  /** Pods per workload key: who a workload's aggregate is made of. */
  private readonly workloadPods = new Map<string, Set<PodState>>()
  private sweptTs = 0
  /**
   * Per workload, the scrape time being assembled: a workload's point waits until each of its live
   * pods has reported that time (or a newer time arrives), so pods scraped on different nodes and
   * delivered in different batches still make one complete point.
   */
  private readonly rounds = new Map<string, { ts: number; reported: Set<PodState>; emitted: boolean }>()
  /** Workload points completed by the arrival of a newer round, for the next flush. */
  private ready: IndicatorPoint[] = []
  /** The newest sample time seen: the clock for forgetting pods (replays keep their own time). */
  private latestTs = 0
  /** By series id: bounded by the tracked pods' parts, and forgotten with their pod. */
  private readonly routes = new Map<string, Route>()

  constructor(options: MetricIndicatorsOptions = {}) {
    this.maxPods = options.maxPods ?? 50_000
    this.staleIntervals = options.staleIntervals ?? 3
  }

  get podCount(): number {
    return this.pods.size
  }

  /** Adds a sample that came on bus partition `partition` (see `flush`). */
  add(sample: MetricSample, partition?: number): void {
    if (sample.pod === undefined) return
    const route = sample.seriesId === undefined ? undefined : this.routes.get(sample.seriesId)
    if (route !== undefined) {
      this.addRouted(route, sample.ts, sample.value, partition)
      return
    }
    const family = familyOf(sample)
    if (family === undefined) return
    const namespace = sample.namespace ?? ''
    let pod = this.podIndex.get(sample.cluster)?.get(namespace)?.get(sample.pod)
    if (!pod) {
      if (this.pods.size >= this.maxPods) {
        this.untracked++
        return
      }
      pod = {
        cluster: sample.cluster,
        pod: sample.pod,
        parts: new Map(),
        families: new Map(),
        sums: new Map(),
        lastTs: sample.ts,
        flushedTs: -Infinity,
        joinedTs: -Infinity,
        intervalMs: 0,
        ...(sample.namespace !== undefined && { namespace: sample.namespace }),
        ...(sample.workload !== undefined && { workload: sample.workload }),
        ...(sample.node !== undefined && { node: sample.node }),
        ...(sample.service !== undefined && { service: sample.service }),
      }
      let namespaces = this.podIndex.get(sample.cluster)
      if (!namespaces)
        this.podIndex.set(sample.cluster, (namespaces = new Map<string, Map<string, PodState>>()))
      let names = namespaces.get(namespace)
      if (!names) namespaces.set(namespace, (names = new Map<string, PodState>()))
      names.set(sample.pod, pod)
      this.pods.add(pod)
      if (sample.workload) {
        const workloadKey = `${sample.cluster}/${sample.namespace ?? ''}/${sample.workload.kind}/${sample.workload.name}`
        pod.workloadKey = workloadKey
        let members = this.workloadPods.get(workloadKey)
        if (!members) this.workloadPods.set(workloadKey, (members = new Set()))
        members.add(pod)
      }
    }
    pod.partition = partition
    this.observeTime(pod, sample.ts)
    // Routed samples need not do this: their series' service was set here when it was routed.
    pod.service ??= sample.service
    const part = this.addPart(pod, family, partId(sample, false), sample)
    const errors =
      family === 'requests' && isServerError(sample.labels)
        ? this.addPart(pod, 'errors', partId(sample, true), sample)
        : undefined
    this.dirtyPods.add(pod)
    if (sample.seriesId !== undefined) {
      const route: Route = { pod, family, part, sums: pod.sums.get(family) as FamilySums }
      if (errors) route.errors = { part: errors, sums: pod.sums.get('errors') as FamilySums }
      this.routes.set(sample.seriesId, route)
      ;(pod.routed ??= []).push(sample.seriesId)
    }
  }

  /**
   * Adds the points of a MetricBatch that came on bus partition `partition`. A series' route is
   * found once per batch, so a point of a known series costs its two numbers.
   */
  addBatch(batch: MetricBatch, partition?: number): void {
    const { series, seriesIndex, ts, value } = batch
    // Per series of the batch: its route; null while it has none (its points go through `add`,
    // which makes one); false when it has no indicator (no pod, or a metric no indicator reads).
    const routes = new Array<Route | null | false | undefined>(series.length)
    for (let i = 0; i < ts.length; i++) {
      const s = seriesIndex[i] as number
      let route = routes[s]
      if (route === undefined) {
        const one = series[s] as MetricSeries
        if (typeof one?.seriesId !== 'string') checkMetricSeries(one)
        // A known route first: most series have one, and finding the family takes regexes.
        route = routes[s] =
          this.routes.get(one.seriesId) ??
          (one.pod !== undefined && familyOf(one) !== undefined ? null : false)
      }
      if (route === false) continue
      if (route !== null) {
        this.addRouted(route, ts[i] as number, value[i] as number, partition)
        continue
      }
      const one = series[s] as MetricSeries
      checkMetricSeries(one)
      this.add({ ...one, ts: ts[i] as number, value: value[i] as number }, partition)
      routes[s] = this.routes.get(one.seriesId) ?? null
    }
  }

  /** A point of a series whose route is known. */
  private addRouted(route: Route, ts: number, value: number, partition: number | undefined): void {
    const pod = route.pod
    pod.partition = partition
    this.observeTime(pod, ts)
    updatePart(route.part, route.sums, route.family, ts, value)
    if (route.errors) updatePart(route.errors.part, route.errors.sums, 'errors', ts, value)
    this.dirtyPods.add(pod)
  }

  /** A sample's time moves the clock, its pod's interval and its workload's round. */
  private observeTime(pod: PodState, ts: number): void {
    if (ts > this.latestTs) this.latestTs = ts
    if (ts > pod.lastTs) {
      pod.intervalMs = ts - pod.lastTs
      pod.lastTs = ts
    }
    // A pod's series share a scrape time: joining its round once per time is enough (hot path).
    if (pod.workloadKey !== undefined && pod.joinedTs !== ts) {
      pod.joinedTs = ts
      this.joinRound(pod.workloadKey, pod, ts)
    }
  }

  private joinRound(workloadKey: string, pod: PodState, ts: number): void {
    const round = this.rounds.get(workloadKey)
    if (round && ts === round.ts) round.reported.add(pod)
    else if (!round || ts > round.ts) {
      // A newer scrape: the one assembled so far is as complete as it gets (pods still hold its values).
      if (round && !round.emitted) this.ready.push(...this.workloadPoints(workloadKey, round.ts))
      this.rounds.set(workloadKey, { ts, reported: new Set([pod]), emitted: false })
    }
  }

  private workloadPoints(workloadKey: string, ts: number): IndicatorPoint[] {
    const live = [...(this.workloadPods.get(workloadKey) ?? [])].filter((p) => !this.isGone(p, ts))
    const first = live[0]
    if (!first) return []
    return this.values(live).map(([indicator, value, counts]) =>
      this.point(first, indicator, value, ts, false, counts),
    )
  }

  /** Adds a sample to the pod's part `key` of `family` (made on its first sample); returns the part. */
  private addPart(pod: PodState, family: Family, key: number, sample: MetricSample): Part {
    let part = pod.parts.get(key)
    let sums = pod.sums.get(family)
    if (!sums) pod.sums.set(family, (sums = newSums()))
    if (!part) {
      part = { raw: sample.value, rawTs: sample.ts, value: undefined, increase: undefined }
      pod.parts.set(key, part)
      let keys = pod.families.get(family)
      if (!keys) pod.families.set(family, (keys = new Set()))
      keys.add(key)
      if (!RATE_FAMILIES.has(family)) {
        part.value = sample.value
        replaceInSum(sums.value, undefined, sample.value)
      }
      return part
    }
    updatePart(part, sums, family, sample.ts, sample.value)
    return part
  }

  /**
   * Indicator points for what changed since the last flush: pods first, then their workloads.
   * Pods that came on a partition in `holding` (whose latest scrape may be cut in two) wait, still
   * changed, for a later flush.
   */
  flush(holding?: ReadonlySet<number>): IndicatorPoint[] {
    const points: IndicatorPoint[] = []
    const workloads = new Set<string>()
    const held: PodState[] = []
    // Pods of one workload scraped together share the answer (hot path: once per pod, not per point).
    const liveCounts = new Map<string, number>()
    for (const pod of this.dirtyPods) {
      if (holding !== undefined && pod.partition !== undefined && holding.has(pod.partition)) {
        held.push(pod)
        continue
      }
      if (pod.workloadKey !== undefined) workloads.add(pod.workloadKey)
      if (pod.lastTs <= pod.flushedTs) continue
      pod.flushedTs = pod.lastTs
      let workloadPods: number | undefined
      if (pod.workloadKey !== undefined) {
        const countKey = `${pod.workloadKey}@${pod.lastTs}`
        workloadPods = liveCounts.get(countKey)
        if (workloadPods === undefined) {
          workloadPods = 0
          for (const member of this.workloadPods.get(pod.workloadKey) ?? [])
            if (!this.isGone(member, pod.lastTs)) workloadPods++
          liveCounts.set(countKey, workloadPods)
        }
      }
      for (const [indicator, value, counts] of this.values([pod]))
        if (POD_INDICATORS.includes(indicator)) {
          const point = this.point(pod, indicator, value, pod.lastTs, true, counts)
          if (workloadPods !== undefined) point.workloadPods = workloadPods
          points.push(point)
        }
    }
    this.dirtyPods.clear()
    for (const pod of held) this.dirtyPods.add(pod)
    points.push(...this.ready)
    this.ready = []
    for (const workloadKey of workloads) {
      const round = this.rounds.get(workloadKey)
      if (!round || round.emitted) continue
      const expected = [...(this.workloadPods.get(workloadKey) ?? [])].filter(
        (p) => !this.isGone(p, round.ts),
      )
      if (!expected.every((p) => round.reported.has(p))) continue
      round.emitted = true
      points.push(...this.workloadPoints(workloadKey, round.ts))
    }
    if (this.latestTs - this.sweptTs >= SWEEP_EVERY_MS) this.sweep()
    return points
  }

  /** Forgets pods gone for good, so a cluster's churn does not pile up. */
  private sweep(): void {
    this.sweptTs = this.latestTs
    for (const pod of this.pods) {
      if (!this.isGone(pod, this.latestTs)) continue
      this.pods.delete(pod)
      // A pod held back (its partition cut, then assigned elsewhere) goes too.
      this.dirtyPods.delete(pod)
      for (const seriesId of pod.routed ?? [])
        if (this.routes.get(seriesId)?.pod === pod) this.routes.delete(seriesId)
      const names = this.podIndex.get(pod.cluster)?.get(pod.namespace ?? '')
      names?.delete(pod.pod)
      if (names?.size === 0) this.podIndex.get(pod.cluster)?.delete(pod.namespace ?? '')
      if (this.podIndex.get(pod.cluster)?.size === 0) this.podIndex.delete(pod.cluster)
      if (pod.workloadKey === undefined) continue
      const members = this.workloadPods.get(pod.workloadKey)
      members?.delete(pod)
      if (members?.size === 0) {
        this.workloadPods.delete(pod.workloadKey)
        this.rounds.delete(pod.workloadKey)
      }
    }
  }

  /** Gone: silent for several of its own intervals (deleted, or replaced by a rollout). */
  private isGone(pod: PodState, now: number): boolean {
    const interval = pod.intervalMs > 0 ? pod.intervalMs : SWEEP_EVERY_MS
    return now - pod.lastTs > this.staleIntervals * interval
  }

  private point(
    pod: PodState,
    indicator: IndicatorName,
    value: number,
    ts: number,
    withPod: boolean,
    counts?: Counts,
  ): IndicatorPoint {
    // Assigned, not spread: a point per indicator per pod per scrape (hot path).
    const point: IndicatorPoint = { indicator, ts, value, cluster: pod.cluster }
    if (counts) {
      if (counts.requests !== undefined) point.requests = counts.requests
      if (counts.failures !== undefined) point.failures = counts.failures
      if (counts.events !== undefined) point.events = counts.events
      if (counts.intervalMs !== undefined) point.intervalMs = counts.intervalMs
    }
    if (pod.namespace !== undefined) point.namespace = pod.namespace
    if (pod.workload !== undefined) point.workload = pod.workload
    if (pod.service !== undefined) point.service = pod.service
    if (withPod) {
      point.pod = pod.pod
      if (pod.node !== undefined) point.node = pod.node
    }
    return point
  }

  /** Indicator values over a set of pods: rates summed, ratios of sums, memory the worst pod's. */
  private values(pods: readonly PodState[]): Array<[IndicatorName, number, Counts?]> {
    const sum = (family: Family, field?: 'increase'): number | undefined => total(pods, family, field)
    const out: Array<[IndicatorName, number, Counts?]> = []
    const cpu = sum('cpu')
    if (cpu !== undefined) out.push(['cpu_cores', cpu])
    const throttled = sum('throttled')
    if (throttled !== undefined) out.push(['cpu_throttled_per_s', throttled])
    let worstRatio: number | undefined
    let worstBytes: number | undefined
    for (const pod of pods) {
      const one = [pod]
      const memory = total(one, 'memory')
      if (memory === undefined) continue
      worstBytes = Math.max(worstBytes ?? 0, memory)
      const limit = total(one, 'limit')
      if (limit !== undefined && limit > 0) worstRatio = Math.max(worstRatio ?? 0, memory / limit)
    }
    if (worstRatio !== undefined) out.push(['memory_limit_ratio', worstRatio])
    else if (worstBytes !== undefined) out.push(['memory_bytes', worstBytes])
    const events = sum('requests', 'increase')
    const intervalMs = Math.max(0, ...pods.map((p) => p.intervalMs))
    const counted: Counts | undefined =
      events !== undefined && intervalMs > 0 ? { events, intervalMs } : undefined
    const rx = sum('rx')
    if (rx !== undefined) out.push(['network_receive_bytes_per_s', rx, counted])
    const tx = sum('tx')
    if (tx !== undefined) out.push(['network_transmit_bytes_per_s', tx, counted])
    const requests = sum('requests')
    if (requests !== undefined) {
      out.push(['request_rate', requests, counted])
      if (requests > 0)
        out.push([
          'error_ratio',
          (sum('errors') ?? 0) / requests,
          { requests: sum('requests', 'increase') ?? 0, failures: sum('errors', 'increase') ?? 0 },
        ])
    }
    const latencyCount = sum('latencyCount', 'increase')
    const latencySum = sum('latencySum', 'increase')
    if (latencyCount !== undefined && latencyCount > 0 && latencySum !== undefined)
      out.push(['latency_seconds', latencySum / latencyCount])
    return out
  }
}
