import { describe, expect, it } from 'vitest'
import { FlowTracker } from '../../../analyzers/index.js'
import type { Anomaly, NetworkFlow } from '../../../core/index.js'

const start = Date.parse('2026-11-24T10:00:00Z')
const MINUTE = 60_000

function flow(
  from: string,
  to: string,
  minute: number,
  action: 'allow' | 'deny' = 'allow',
  count = 5,
): NetworkFlow {
  const endpoint = (name: string) => ({
    namespace: 'shop',
    name: '-',
    aggregatedName: `${name}-6d4cf56db6-*`,
    type: 'wep',
    labels: {},
  })
  return {
    ts: start + minute * MINUTE + 30_000,
    cluster: 'c1',
    startTs: start + minute * MINUTE,
    endTs: start + minute * MINUTE + 30_000,
    source: endpoint(from),
    destination: endpoint(to),
    destServiceName: to,
    protocol: 'tcp',
    action,
    reporter: 'dst',
    bytesIn: 100,
    bytesOut: 100,
    packetsIn: 1,
    packetsOut: 1,
    flowCount: count,
    policies: [],
  }
}

/** Feeds minutes of steady traffic on the given edges; answers the anomalies raised. */
function steady(tracker: FlowTracker, edges: Array<[string, string]>, minutes: number, from = 0): Anomaly[] {
  const found: Anomaly[] = []
  for (let m = from; m < from + minutes; m++)
    for (const [a, b] of edges) found.push(...tracker.observe(flow(a, b, m)))
  return found
}

describe('flow tracker', () => {
  it('reports an edge never seen after the warm-up, and nothing for the edges it knows', () => {
    const tracker = new FlowTracker({ warmupMinutes: 10 })
    expect(
      steady(
        tracker,
        [
          ['frontend', 'cart'],
          ['cart', 'redis'],
        ],
        20,
      ),
    ).toEqual([])
    const found = tracker.observe(flow('frontend', 'payments-db', 20, 'deny'))
    expect(found.map((a) => [a.kind, a.severity, a.entity.name])).toEqual([
      ['new_edge', 'warning', 'payments-db'],
    ])
  })

  it('reports a surge of denied flows against the edge own denied rate, before its minute closes, once', () => {
    const tracker = new FlowTracker({ warmupMinutes: 1 })
    const found: Anomaly[] = []
    for (let m = 0; m < 60; m++) {
      found.push(...tracker.observe(flow('frontend', 'cart', m)))
      if (m % 10 === 0) found.push(...tracker.observe(flow('frontend', 'cart', m, 'deny', 1)))
    }
    for (let i = 0; i < 10; i++) found.push(...tracker.observe(flow('frontend', 'cart', 60, 'deny', 10)))
    found.push(...tracker.observe(flow('frontend', 'cart', 61)))
    const surges = found.filter((a) => a.kind === 'denied_surge')
    expect(surges).toHaveLength(1)
    // The first batch of ten already stands far above one denial every ten minutes.
    expect(surges[0]?.summary).toMatch(/^frontend -> cart: 10 denied flows in a minute \(usually 0\.\d\)$/)
    expect(surges[0]?.ts).toBeLessThan(start + 61 * MINUTE)
  })

  it('reports a steady dependency that goes quiet, once', () => {
    const tracker = new FlowTracker({ warmupMinutes: 1 })
    steady(
      tracker,
      [
        ['frontend', 'cart'],
        ['cart', 'redis'],
      ],
      30,
    )
    // cart stops calling redis; frontend keeps calling cart, which moves the clock on.
    const found = steady(tracker, [['frontend', 'cart']], 5, 30)
    expect(found.map((a) => [a.kind, a.entity.name])).toEqual([['traffic_stopped', 'redis']])
  })
})
