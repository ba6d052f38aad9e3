import { describe, expect, it } from 'vitest'
import { MetricIndicators, type IndicatorPoint } from '../../../analyzers/index.js'
import { metricSeriesId, type MetricBatch, type MetricSample } from '../../../core/index.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const T0 = Date.parse('2026-11-01T00:00:00Z')
const STEP = 10_000

function sample(
  pod: string,
  name: string,
  value: number,
  step: number,
  labels: Record<string, string> = {},
): MetricSample {
  const workload = pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')
  return {
    ts: T0 + step * STEP,
    cluster: 'c1',
    namespace: 'shop',
    pod,
    workload: { kind: 'Deployment', name: workload },
    name,
    value,
    labels: { namespace: 'shop', pod, ...labels },
  }
}

const valueOf = (points: IndicatorPoint[], indicator: string, pod?: string): number | undefined =>
  points.find((p) => p.indicator === indicator && p.pod === pod)?.value

describe('metric indicators', () => {
  it('keeps each family summed as its parts change: the same as adding up the latest rates', () => {
    // Rates are summed as they change, not per flush; thousands of changes (resets, series
    // missing from a round) must still give the sum of each series' latest rate.
    const indicators = new MetricIndicators()
    const pod = 'cart-6d4cf56db6-x7k2p'
    let seed = 7
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647
    const counters = Array.from({ length: 12 }, () => 1e6 * random())
    const latest = new Map<number, number>()
    const rates = new Map<number, number>()
    for (let step = 0; step < 600; step++) {
      for (let c = 0; c < counters.length; c++) {
        if (random() < 0.2) continue // this series is missing this round
        const restarted = random() < 0.02
        const before = counters[c] as number
        const now = restarted ? 1e3 * random() : before + 1e4 * random()
        counters[c] = now
        indicators.add(sample(pod, 'container_cpu_usage_seconds_total', now, step, { id: String(c) }))
        // What the series counted since its previous sample, whenever that was.
        const previousStep = latest.get(c)
        if (previousStep !== undefined) {
          // A counter that went down restarted from zero (one that restarted and passed its old
          // value cannot be told from one that counted on, here or in Prometheus).
          const increase = now >= before ? now - before : now
          latest.set(c, step)
          rates.set(c, increase / (((step - previousStep) * STEP) / 1000))
        } else latest.set(c, step)
      }
      const cpu = valueOf(indicators.flush(), 'cpu_cores', pod)
      const expected = [...rates.values()].reduce((sum, rate) => sum + rate, 0)
      if (rates.size > 0) expect(cpu).toBeCloseTo(expected, 6)
    }
  })

  it('turns counters into rates per second and survives a counter reset', () => {
    const indicators = new MetricIndicators()
    const pod = 'cart-6d4cf56db6-x7k2p'
    indicators.add(sample(pod, 'container_cpu_usage_seconds_total', 100, 0, { container: 'cart' }))
    expect(valueOf(indicators.flush(), 'cpu_cores', pod)).toBeUndefined() // one point is no rate
    indicators.add(sample(pod, 'container_cpu_usage_seconds_total', 105, 1, { container: 'cart' }))
    expect(valueOf(indicators.flush(), 'cpu_cores', pod)).toBeCloseTo(0.5)
    // The container restarted: the counter starts again from zero and counted 2 s since.
    indicators.add(sample(pod, 'container_cpu_usage_seconds_total', 2, 2, { container: 'cart' }))
    expect(valueOf(indicators.flush(), 'cpu_cores', pod)).toBeCloseTo(0.2)
  })

  it('derives error ratio from status codes and mean latency from histogram sum and count', () => {
    const indicators = new MetricIndicators()
    const pod = 'checkout-7d9f8c6b5d-abcde'
    const scrape = (step: number, ok: number, failed: number, sum: number, count: number) => {
      indicators.add(sample(pod, 'http_requests_total', ok, step, { code: '200' }))
      indicators.add(sample(pod, 'http_requests_total', failed, step, { code: '503' }))
      indicators.add(sample(pod, 'http_request_duration_seconds_sum', sum, step))
      indicators.add(sample(pod, 'http_request_duration_seconds_count', count, step))
      return indicators.flush()
    }
    scrape(0, 1000, 10, 50, 1010)
    const points = scrape(1, 1900, 110, 150, 2010)
    expect(valueOf(points, 'error_ratio', pod)).toBeCloseTo(0.1) // 100 of 1000 new requests failed
    expect(valueOf(points, 'latency_seconds', pod)).toBeCloseTo(0.1) // 100 s over 1000 requests
    // Workload points aggregate the workload's pods; pod points carry the pod.
    expect(points.find((p) => p.indicator === 'request_rate' && p.pod === undefined)).toMatchObject({
      value: 100,
      workload: { kind: 'Deployment', name: 'checkout' },
    })
  })

  it('reports memory against the limit, the worst pod for the workload', () => {
    const indicators = new MetricIndicators()
    for (const [pod, used] of [
      ['cart-6d4cf56db6-aaaaa', 100],
      ['cart-6d4cf56db6-bbbbb', 300],
    ] as const) {
      indicators.add(sample(pod, 'container_memory_working_set_bytes', used, 0, { container: 'cart' }))
      indicators.add(sample(pod, 'container_spec_memory_limit_bytes', 400, 0, { container: 'cart' }))
    }
    const points = indicators.flush()
    expect(valueOf(points, 'memory_limit_ratio', 'cart-6d4cf56db6-aaaaa')).toBeCloseTo(0.25)
    expect(valueOf(points, 'memory_limit_ratio')).toBeCloseTo(0.75)
  })

  it('keeps the workload series through a rollout: replaced pods leave its aggregate', () => {
    const indicators = new MetricIndicators({ staleIntervals: 3 })
    const requests = (pod: string, total: number, step: number) =>
      indicators.add(sample(pod, 'http_requests_total', total, step, { code: '200' }))
    let workloadRate: number | undefined
    for (let step = 0; step < 5; step++) {
      requests('web-6d4cf56db6-old01', step * 100, step)
      workloadRate = valueOf(indicators.flush(), 'request_rate')
    }
    expect(workloadRate).toBeCloseTo(10)
    // The old pod stops; the new one takes the traffic.
    for (let step = 5; step < 12; step++) {
      requests('web-7f8g9h2j4k-new01', (step - 5) * 200, step)
      workloadRate = valueOf(indicators.flush(), 'request_rate')
    }
    expect(workloadRate).toBeCloseTo(20) // the new pod alone: the old one has gone stale
  })

  it('ignores series it does not derive indicators from, and counts pods over its limit', () => {
    const indicators = new MetricIndicators({ maxPods: 1 })
    indicators.add(sample('a-6d4cf56db6-aaaaa', 'go_goroutines', 10, 0))
    expect(indicators.podCount).toBe(0)
    indicators.add(
      sample('a-6d4cf56db6-aaaaa', 'container_memory_working_set_bytes', 10, 0, { container: 'a' }),
    )
    indicators.add(
      sample('b-6d4cf56db6-bbbbb', 'container_memory_working_set_bytes', 10, 0, { container: 'b' }),
    )
    expect(indicators.podCount).toBe(1)
    expect(indicators.untracked).toBe(1)
  })

  it('knows a series by name and labels in any order, apart from its namesakes in other pods and namespaces', () => {
    const indicators = new MetricIndicators()
    const pod = 'cart-6d4cf56db6-x7k2p'
    const cpu = (value: number, step: number, labels: Record<string, string>, namespace = 'shop') =>
      indicators.add({ ...sample(pod, 'container_cpu_usage_seconds_total', value, step, labels), namespace })
    cpu(100, 0, { container: 'cart', id: '/a' })
    cpu(1000, 0, { container: 'cart', id: '/b' })
    cpu(7, 0, { container: 'cart', id: '/a' }, 'other')
    indicators.flush()
    // Labels in another order: the same two series, each 10 s on.
    cpu(110, 1, { id: '/a', container: 'cart' })
    cpu(1020, 1, { id: '/b', container: 'cart' })
    // The same pod name and labels in another namespace is another pod: it counted 1 in 10 s.
    cpu(8, 1, { container: 'cart', id: '/a' }, 'other')
    const points = indicators.flush()
    const cores = points.filter((p) => p.indicator === 'cpu_cores' && p.pod === pod)
    expect(cores.find((p) => p.namespace === 'shop')?.value).toBeCloseTo(3) // (10 + 20) / 10 s
    expect(cores.find((p) => p.namespace === 'other')?.value).toBeCloseTo(0.1)
  })

  it('tracks a pod anew when it comes back after it was forgotten as gone', () => {
    const indicators = new MetricIndicators({ staleIntervals: 3 })
    const memory = (pod: string, value: number, step: number) =>
      indicators.add(sample(pod, 'container_memory_working_set_bytes', value, step, { container: 'c' }))
    memory('a-6d4cf56db6-aaaaa', 1, 0)
    memory('a-6d4cf56db6-aaaaa', 1, 1)
    indicators.flush()
    // b alone for long enough that a is swept (a minute of sample time at least).
    for (let step = 2; step < 12; step++) memory('b-6d4cf56db6-bbbbb', 5, step)
    indicators.flush()
    expect(indicators.podCount).toBe(1)
    memory('a-6d4cf56db6-aaaaa', 42, 12)
    expect(indicators.podCount).toBe(2)
    expect(valueOf(indicators.flush(), 'memory_bytes', 'a-6d4cf56db6-aaaaa')).toBe(42)
  })

  it('gives the same points whether samples bring their series id (and take a remembered route) or not', () => {
    // Routes by series id are a cache of the pod index and part ids: every point must match,
    // through counter resets, server errors, a pod that goes away and one that comes back.
    const routed = new MetricIndicators()
    const looked = new MetricIndicators()
    const { next } = seededRandom(11)
    const pods = ['cart-6d4cf56db6-x7k2p', 'cart-6d4cf56db6-q9z8w', 'api-7f8b9c6d5-abcde']
    const names = [
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'container_spec_memory_limit_bytes',
      'http_requests_total',
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds_count',
      'unrelated_gauge',
    ]
    const counters = new Map<string, number>()
    let points = 0
    for (let step = 0; step < 400; step++) {
      for (const pod of pods) {
        // The second cart pod is away for a while (swept as gone), then back.
        if (pod === pods[1] && step > 100 && step < 200) continue
        for (const name of names)
          for (const code of name === 'http_requests_total' ? ['200', '500', '503'] : ['']) {
            if (next() < 0.1) continue
            const key = `${pod}/${name}/${code}`
            const reset = next() < 0.02
            const value = reset ? 10 * next() : (counters.get(key) ?? 0) + 100 * next()
            counters.set(key, value)
            const one = sample(pod, name, value, step, code ? { code } : {})
            looked.add(one)
            routed.add({ ...one, seriesId: metricSeriesId(one) })
          }
      }
      const expected = looked.flush()
      expect(routed.flush()).toEqual(expected)
      points += expected.length
    }
    expect(points).toBeGreaterThan(5_000)
    expect(routed.podCount).toBe(looked.podCount)
  })

  it('gives the same points from batches of two scrapes of a workload as from their samples one by one', () => {
    // remote_write publishes a workload's samples of a request as one MetricBatch; a request may
    // hold several scrapes, so a batch names a series more than once, and a series new in the
    // batch takes the route its first point made.
    const single = new MetricIndicators()
    const batched = new MetricIndicators()
    const { next } = seededRandom(12)
    const workloads = {
      cart: ['cart-6d4cf56db6-x7k2p', 'cart-6d4cf56db6-q9z8w'],
      api: ['api-7f8b9c6d5-abcde'],
    }
    const names = [
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'http_requests_total',
      'unrelated_gauge',
    ]
    const counters = new Map<string, number>()
    let points = 0
    for (let step = 0; step < 300; step += 2) {
      for (const pods of Object.values(workloads)) {
        const batch: MetricBatch = { series: [], seriesIndex: [], ts: [], value: [] }
        const slots = new Map<string, number>()
        for (const at of [step, step + 1])
          for (const pod of pods)
            for (const name of names)
              for (const code of name === 'http_requests_total' ? ['200', '503'] : ['']) {
                if (next() < 0.1) continue
                const key = `${pod}/${name}/${code}`
                const value = next() < 0.02 ? 10 * next() : (counters.get(key) ?? 0) + 100 * next()
                counters.set(key, value)
                const one = sample(pod, name, value, at, code ? { code } : {})
                single.add(one)
                const { ts, value: point, ...series } = { ...one, seriesId: metricSeriesId(one) }
                let slot = slots.get(series.seriesId)
                if (slot === undefined) slots.set(series.seriesId, (slot = batch.series.push(series) - 1))
                batch.seriesIndex.push(slot)
                batch.ts.push(ts)
                batch.value.push(point)
              }
        batched.addBatch(batch)
      }
      const expected = single.flush()
      expect(batched.flush()).toEqual(expected)
      points += expected.length
    }
    expect(points).toBeGreaterThan(1_000)
    expect(batched.podCount).toBe(single.podCount)
  })

  it('holds the pods of a partition whose latest scrape may be cut in two, and scores them later', () => {
    // Another partition's batch may flush while this one's rest is still to come.
    const indicators = new MetricIndicators()
    const cart = 'cart-6d4cf56db6-x7k2p'
    const api = 'api-7f8b9c6d5-abcde'
    indicators.add(sample(cart, 'container_memory_working_set_bytes', 100, 0), 1)
    indicators.add(sample(api, 'container_memory_working_set_bytes', 200, 0), 2)
    const first = indicators.flush(new Set([2]))
    expect(valueOf(first, 'memory_bytes', cart)).toBe(100)
    expect(first.filter((p) => p.workload?.name === 'api')).toEqual([])
    const second = indicators.flush(new Set())
    expect(valueOf(second, 'memory_bytes', api)).toBe(200)
    expect(second.some((p) => p.workload?.name === 'api' && p.pod === undefined)).toBe(true)
    expect(valueOf(second, 'memory_bytes', cart)).toBeUndefined()
  })

  it("makes a pod's points once per scrape time, though the scrape's series come in several batches", () => {
    // A Prometheus shards a scrape's series over its remote_write requests: a pod is changed in
    // batch after batch at a time whose points were made already (and would be dropped as scored).
    const indicators = new MetricIndicators()
    const cart = 'cart-6d4cf56db6-x7k2p'
    const podPoints = (points: IndicatorPoint[]) => points.filter((p) => p.pod === cart)
    const memory = (id: string, value: number, step: number) =>
      sample(cart, 'container_memory_working_set_bytes', value, step, { id })
    indicators.add(memory('a', 100, 0))
    expect(valueOf(indicators.flush(), 'memory_bytes', cart)).toBe(100)
    indicators.add(memory('b', 50, 0))
    expect(podPoints(indicators.flush())).toEqual([])
    // The next scrape makes points again, of every series' latest value.
    indicators.add(memory('a', 120, 1))
    expect(valueOf(indicators.flush(), 'memory_bytes', cart)).toBe(170)
    indicators.add(memory('b', 60, 1))
    expect(podPoints(indicators.flush())).toEqual([])
  })
})
