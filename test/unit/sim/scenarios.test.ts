import { describe, expect, it } from 'vitest'
import type {
  KubeEvent,
  LogRecord,
  MetricSample,
  NetworkFlow,
  ObjectState,
  ResourceChange,
} from '../../../core/index.js'
import {
  ClusterTopology,
  StateReporter,
  podState,
  normaliseCalicoFlow,
  normaliseFluentRecord,
  normaliseKubeEvent,
  objectChanges,
  parsePrometheusText,
  toMetricSamples,
} from '../../../ingest/index.js'
import {
  FAULT_KINDS,
  createScenario,
  createSimulator,
  type FaultKind,
  type GroundTruth,
} from '../../../sim/index.js'

const START = Date.parse('2026-01-01T12:00:00Z')
const MINUTE = 60_000

interface Observed {
  truth: GroundTruth | undefined
  logs: LogRecord[]
  events: KubeEvent[]
  changes: ResourceChange[]
  metrics: MetricSample[]
  flows: NetworkFlow[]
  /** Pod states as the collector would report them: only changes. */
  pods: ObjectState[]
  rejected: string[]
}

/** Runs a scenario (fault from minute 10 to 25 of 30) and parses everything as Argus's ingest would. */
async function observe(scenario: FaultKind | 'none', seed = 11): Promise<Observed> {
  const run = createScenario({
    scenario,
    seed,
    startTs: START,
    durationMs: 30 * MINUTE,
    faultAfterMs: 10 * MINUTE,
    faultDurationMs: 15 * MINUTE,
  })
  const out: Observed = {
    truth: run.truth,
    logs: [],
    events: [],
    changes: [],
    metrics: [],
    flows: [],
    pods: [],
    rejected: [],
  }
  const topology = new ClusterTopology()
  const reporter = new StateReporter({
    objectStates: (states) => {
      out.pods.push(...states)
      return Promise.resolve({ accepted: states.length, rejected: [] })
    },
  })
  for (const tick of run.ticks()) {
    const context = { cluster: 'sim', now: tick.ts }
    for (const record of tick.logs) {
      const r = normaliseFluentRecord(record, { ...context, source: 'sim' })
      if (r.ok) out.logs.push(r.record)
      else out.rejected.push(r.reason)
    }
    for (const object of tick.events) {
      const r = normaliseKubeEvent(object, context)
      if (r.ok) out.events.push(r.record)
      else out.rejected.push(r.reason)
    }
    for (const update of tick.objectUpdates)
      out.changes.push(
        ...objectChanges(update.before, update.after, { ...context, deleted: update.deleted ?? false }),
      )
    for (const scrape of tick.scrapes)
      out.metrics.push(
        ...toMetricSamples(parsePrometheusText(scrape.text), { ...context, node: scrape.node }),
      )
    for (const record of tick.flows) {
      const r = normaliseCalicoFlow(record, context)
      if (r.ok) out.flows.push(r.record)
      else out.rejected.push(r.reason)
    }
    for (const replicaSet of tick.replicaSets) topology.setReplicaSet(replicaSet, false)
    for (const slice of tick.endpointSlices) topology.setEndpointSlice(slice, false)
    await reporter.report(
      tick.pods.map(({ object, deleted }) =>
        podState(object, topology.placementOf(object), { ...context, deleted: deleted ?? false }),
      ),
    )
  }
  return out
}

const during = (truth: GroundTruth | undefined, ts: number): boolean =>
  !!truth && ts >= truth.startTs && ts < truth.endTs
const before = (truth: GroundTruth | undefined, ts: number): boolean => !!truth && ts < truth.startTs

/** Rate per second of a counter summed over the matching series, between two times. */
function counterRate(
  metrics: MetricSample[],
  match: (m: MetricSample) => boolean,
  from: number,
  to: number,
): number {
  const series = new Map<string, MetricSample[]>()
  for (const m of metrics)
    if (match(m) && m.ts >= from && m.ts <= to)
      series.set(JSON.stringify(m.labels), [...(series.get(JSON.stringify(m.labels)) ?? []), m])
  let total = 0
  for (const points of series.values()) {
    const first = points[0] as MetricSample
    const last = points[points.length - 1] as MetricSample
    if (last.ts > first.ts) total += Math.max(0, last.value - first.value) / ((last.ts - first.ts) / 1000)
  }
  return total
}

/** Mean latency from the histogram's _sum and _count for a service over a window, in ms. */
function meanLatencyMs(metrics: MetricSample[], service: string, from: number, to: number): number {
  const sum = counterRate(
    metrics,
    (m) => m.name === 'http_request_duration_seconds_sum' && m.service === service,
    from,
    to,
  )
  const count = counterRate(
    metrics,
    (m) => m.name === 'http_request_duration_seconds_count' && m.service === service,
    from,
    to,
  )
  return count > 0 ? (sum / count) * 1000 : 0
}

function errorRatio(metrics: MetricSample[], service: string, from: number, to: number): number {
  const errors = counterRate(
    metrics,
    (m) => m.name === 'http_requests_total' && m.service === service && m.labels.code === '500',
    from,
    to,
  )
  const all = counterRate(metrics, (m) => m.name === 'http_requests_total' && m.service === service, from, to)
  return all > 0 ? errors / all : 0
}

const baseline = { from: START + 2 * MINUTE, to: START + 9 * MINUTE }
const faulty = { from: START + 14 * MINUTE, to: START + 24 * MINUTE }

describe('simulator', () => {
  it('replays exactly from a seed, and differs with another seed', async () => {
    const run = (seed: number): string => {
      const sim = createSimulator({ seed, startTs: START })
      sim.inject('bad_release', { startTs: START + 2 * MINUTE })
      return JSON.stringify(Array.from({ length: 30 }, () => sim.step()))
    }
    expect(run(5)).toBe(run(5))
    expect(run(5)).not.toBe(run(6))
  })

  it('emits every signal kind in formats the ingest parsers accept', async () => {
    const healthy = await observe('none')
    expect(healthy.rejected).toEqual([])
    for (const kind of ['logs', 'events', 'changes', 'metrics', 'flows', 'pods'] as const)
      expect(healthy[kind].length, kind).toBeGreaterThan(0)
    expect(new Set(healthy.metrics.map((m) => m.name))).toEqual(
      new Set([
        'container_cpu_usage_seconds_total',
        'container_memory_working_set_bytes',
        'container_spec_memory_limit_bytes',
        'container_cpu_cfs_throttled_periods_total',
        'container_network_receive_bytes_total',
        'container_network_transmit_bytes_total',
        'kube_pod_container_status_restarts_total',
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'http_request_duration_seconds_sum',
        'http_request_duration_seconds_count',
      ]),
    )
    // Twelve services over four nodes, pods spread across all of them.
    expect(new Set(healthy.metrics.map((m) => m.service).filter(Boolean)).size).toBe(12)
    expect(new Set(healthy.metrics.map((m) => m.node)).size).toBe(4)
  })

  it('makes a slow callee slow its callers (latency follows dependencies)', async () => {
    const run = await observe('slow_database')
    for (const service of ['database', 'catalog', 'frontend']) {
      expect(meanLatencyMs(run.metrics, service, faulty.from, faulty.to), service).toBeGreaterThan(
        1.5 * meanLatencyMs(run.metrics, service, baseline.from, baseline.to),
      )
    }
    // cart does not call the database: unaffected.
    expect(meanLatencyMs(run.metrics, 'cart', faulty.from, faulty.to)).toBeLessThan(
      1.3 * meanLatencyMs(run.metrics, 'cart', baseline.from, baseline.to),
    )
    expect(
      run.logs.some(
        (l) => l.service === 'database' && l.message.includes('duration:') && during(run.truth, l.ts),
      ),
    ).toBe(true)
  })
})

describe('fault scenarios carry their fault', () => {
  it('records ground truth for every scenario', async () => {
    for (const kind of FAULT_KINDS) {
      const { truth } = createScenario({ scenario: kind, seed: 1, startTs: START, durationMs: 30 * MINUTE })
      expect(truth).toMatchObject({ fault: kind, startTs: START + 10 * MINUTE, endTs: START + 20 * MINUTE })
      expect(truth?.rootCause.name).toBeTruthy()
      expect(truth?.affectedServices.length).toBeGreaterThan(0)
    }
  })

  it('memory leak: a rising memory series, then OOMKilled restarts', async () => {
    const run = await observe('memory_leak')
    const cartMemory = run.metrics.filter(
      (m) => m.name === 'container_memory_working_set_bytes' && m.container === 'cart',
    )
    const firstPod = cartMemory[0]?.pod
    const series = cartMemory.filter((m) => m.pod === firstPod)
    const beforeFault = Math.max(...series.filter((m) => before(run.truth, m.ts)).map((m) => m.value))
    const peak = Math.max(...series.filter((m) => during(run.truth, m.ts)).map((m) => m.value))
    expect(peak).toBeGreaterThan(1.8 * beforeFault)
    const ooms = run.events.filter(
      (e) => e.reason === 'BackOff' && e.message.includes('OOMKilled') && e.workload?.name === 'cart',
    )
    expect(ooms.length).toBeGreaterThan(0)
    expect(ooms.every((e) => during(run.truth, e.ts))).toBe(true)
    expect(run.events.some((e) => e.reason === 'OOMKilling' && e.involvedObject.kind === 'Node')).toBe(true)
    const restarts = run.metrics.filter(
      (m) => m.name === 'kube_pod_container_status_restarts_total' && m.container === 'cart',
    )
    expect(Math.max(...restarts.map((m) => m.value))).toBeGreaterThan(0)
    // The kubelet's own account: the pod status says the last run was OOMKilled.
    const oomStates = run.pods.filter((p) =>
      p.containers.some((c) => c.lastTerminationReason === 'OOMKilled' && c.lastExitCode === 137),
    )
    expect(oomStates.length).toBeGreaterThan(0)
    expect(oomStates.every((p) => p.workload?.name === 'cart')).toBe(true)
    // Restarting, the pod leaves the service's endpoints; running again, it is back.
    expect(oomStates.some((p) => p.services.length === 0 && p.containers[0]?.state === 'waiting')).toBe(true)
    expect(oomStates.some((p) => p.services.includes('cart') && p.containers[0]?.state === 'running')).toBe(
      true,
    )
    expect(oomStates[0]?.owners.map((o) => o.kind)).toEqual(['ReplicaSet', 'Deployment'])
  })

  it('bad release: a rollout with an image change, then errors and latency in the released service', async () => {
    const run = await observe('bad_release')
    const rollouts = run.changes.filter((c) => c.changeKind === 'rollout' && c.resource.name === 'checkout')
    expect(rollouts[0]).toMatchObject({
      ts: run.truth?.startTs,
      revision: '2',
      images: [{ container: 'checkout', from: 'shop/checkout:1.4.2', to: 'shop/checkout:1.5.0' }],
    })
    expect(errorRatio(run.metrics, 'checkout', faulty.from, faulty.to)).toBeGreaterThan(0.1)
    expect(errorRatio(run.metrics, 'checkout', baseline.from, baseline.to)).toBeLessThan(0.02)
    expect(meanLatencyMs(run.metrics, 'checkout', faulty.from, faulty.to)).toBeGreaterThan(
      meanLatencyMs(run.metrics, 'checkout', baseline.from, baseline.to) + 80,
    )
    expect(
      run.logs.some(
        (l) => l.service === 'checkout' && l.level === 'error' && l.message.includes('NullPointerException'),
      ),
    ).toBe(true)
    // The rollback at the end is recorded too.
    expect(rollouts.length).toBe(2)
  })

  it('cpu hog: one pod pinned at its CPU limit and throttled; its service slows', async () => {
    const run = await observe('cpu_hog')
    const pod = run.truth?.rootCause.name as string
    const cpu = counterRate(
      run.metrics,
      (m) => m.name === 'container_cpu_usage_seconds_total' && m.pod === pod,
      faulty.from,
      faulty.to,
    )
    expect(cpu).toBeGreaterThan(0.9) // cores: the limit is one
    expect(
      counterRate(
        run.metrics,
        (m) => m.name === 'container_cpu_cfs_throttled_periods_total' && m.pod === pod,
        faulty.from,
        faulty.to,
      ),
    ).toBeGreaterThan(0)
    expect(meanLatencyMs(run.metrics, 'recommendation', faulty.from, faulty.to)).toBeGreaterThan(
      2 * meanLatencyMs(run.metrics, 'recommendation', baseline.from, baseline.to),
    )
  })

  it('network policy deny: a new NetworkPolicy, denied flows to the target, and timeouts in its callers', async () => {
    const run = await observe('network_policy_deny')
    expect(
      run.changes.some(
        (c) =>
          c.changeKind === 'create' && c.resource.kind === 'NetworkPolicy' && c.ts === run.truth?.startTs,
      ),
    ).toBe(true)
    const denied = run.flows.filter((f) => f.action === 'deny')
    expect(denied.length).toBeGreaterThan(0)
    expect(new Set(denied.map((f) => f.destServiceName))).toEqual(new Set(['payment']))
    expect(
      denied.every(
        (f) => f.endTs >= (run.truth?.startTs ?? 0) && f.startTs < (run.truth?.endTs ?? 0) + 30_000,
      ),
    ).toBe(true)
    expect(run.logs.some((l) => l.service === 'checkout' && l.message.includes('i/o timeout'))).toBe(true)
    expect(errorRatio(run.metrics, 'checkout', faulty.from, faulty.to)).toBeGreaterThan(0.5)
  })

  it('node pressure: the node reports it and its pods are evicted and rescheduled elsewhere', async () => {
    const run = await observe('node_pressure')
    expect(run.events.some((e) => e.reason === 'NodeHasInsufficientMemory' && e.node === 'node-2')).toBe(true)
    const evicted = run.events.filter((e) => e.reason === 'Evicted')
    expect(evicted.length).toBeGreaterThan(0)
    expect(evicted.every((e) => e.node === 'node-2' && during(run.truth, e.ts))).toBe(true)
    const lateDeploymentPods = run.metrics.filter(
      (m) =>
        m.ts > (run.truth?.startTs ?? 0) + 5 * MINUTE &&
        during(run.truth, m.ts) &&
        m.node === 'node-2' &&
        m.workload?.kind === 'Deployment',
    )
    expect(lateDeploymentPods).toEqual([])
    // Evicted pods are deleted; their replacements start on other nodes.
    const deleted = run.pods.filter((p) => p.deleted && during(run.truth, p.ts))
    expect(deleted.length).toBe(evicted.length)
    expect(deleted.every((p) => p.node === 'node-2')).toBe(true)
  })

  it('crash loop after a config change: the ConfigMap change, then BackOff and fatal logs from the new pod', async () => {
    const run = await observe('crashloop_after_config')
    const config = run.changes.find((c) => c.changeKind === 'config' && c.resource.name === 'catalog-config')
    expect(config?.diff).toEqual([{ path: 'data.POOL_SIZE', from: '20', to: '0' }])
    expect(run.changes.some((c) => c.changeKind === 'rollout' && c.resource.name === 'catalog')).toBe(true)
    expect(
      run.events.filter((e) => e.reason === 'BackOff' && e.workload?.name === 'catalog').length,
    ).toBeGreaterThan(5)
    expect(
      run.logs.some((l) => l.service === 'catalog' && l.level === 'fatal' && l.message.includes('POOL_SIZE')),
    ).toBe(true)
    const crashLooping = run.pods.find(
      (p) => p.workload?.name === 'catalog' && p.containers[0]?.reason === 'CrashLoopBackOff',
    )
    expect(crashLooping?.containers[0]).toMatchObject({ state: 'waiting', lastTerminationReason: 'Error' })
    // Not ready, so not in the service's endpoints.
    expect(crashLooping?.services).toEqual([])
  })

  it('traffic surge: three times the requests saturate the frontend', async () => {
    const run = await observe('traffic_surge')
    const rate = (from: number, to: number): number =>
      counterRate(run.metrics, (m) => m.name === 'http_requests_total' && m.service === 'frontend', from, to)
    expect(rate(faulty.from, faulty.to)).toBeGreaterThan(2.5 * rate(baseline.from, baseline.to))
    const cpu = counterRate(
      run.metrics,
      (m) => m.name === 'container_cpu_usage_seconds_total' && m.container === 'frontend',
      faulty.from,
      faulty.to,
    )
    expect(cpu / 3).toBeGreaterThan(0.9) // each of the three pods near its one-core limit
    expect(meanLatencyMs(run.metrics, 'frontend', faulty.from, faulty.to)).toBeGreaterThan(
      2 * meanLatencyMs(run.metrics, 'frontend', baseline.from, baseline.to),
    )
  })
})
