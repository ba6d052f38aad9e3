import { describe, expect, it } from 'vitest'
import { LogPatternTracker, LogTemplateMiner } from '../../../analyzers/index.js'
import type { LogRecord } from '../../../core/index.js'

const miner = new LogTemplateMiner()
const start = Date.parse('2026-11-24T10:00:00Z')
const log = (message: string, ts: number, level: LogRecord['level'] = 'info'): LogRecord => ({
  ts,
  cluster: 'c1',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'cart' },
  message,
  level,
  source: 'test',
  templateId: miner.add(message).id,
})

describe('log pattern tracker', () => {
  it('flags a template the workload never used, once it has shown what it usually logs', () => {
    const tracker = new LogPatternTracker({ warmupRecords: 100 })
    const early = tracker.observe(log('startup banner v1', start))
    expect(early).toEqual([]) // during warm-up everything is new
    for (let i = 0; i < 200; i++)
      expect(tracker.observe(log(`GET /cart/${i} took ${i % 40} ms`, start + i * 100))).toEqual([])
    const found = tracker.observe(log('ERROR connection pool exhausted after 30 s', start + 30_000, 'error'))
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({
      kind: 'new_template',
      severity: 'warning',
      signal: 'log',
      entity: { kind: 'Deployment', name: 'cart', namespace: 'shop' },
      workload: { kind: 'Deployment', name: 'cart' },
    })
    // The same event again is not new any more.
    expect(
      tracker.observe(log('ERROR connection pool exhausted after 31 s', start + 31_000, 'error')),
    ).toEqual([])
  })

  it('forgets the least recently active workloads first when it tracks as many as it may', () => {
    const tracker = new LogPatternTracker({ warmupRecords: 1, maxWorkloads: 10 })
    const of = (name: string, message: string, ts: number): LogRecord => ({
      ...log(message, ts),
      workload: { kind: 'Deployment', name },
    })
    for (let w = 0; w < 10; w++) tracker.observe(of(`w${w}`, 'usual line', start + w))
    tracker.observe(of('w0', 'usual line', start + 10)) // w0 active again: w1 is now the least recent
    tracker.observe(of('w10', 'usual line', start + 11)) // over the cap: w1 is forgotten
    // w0 was kept: past its warm-up, a template it never used is new.
    expect(tracker.observe(of('w0', 'never seen before', start + 12))).toMatchObject([
      { kind: 'new_template' },
    ])
    // w1 starts over, in warm-up, where nothing is new.
    expect(tracker.observe(of('w1', 'never seen before', start + 13))).toEqual([])
    // Workloads in other namespaces or clusters with the same name are tracked apart.
    const elsewhere = { ...of('w0', 'never seen before', start + 14), namespace: 'other' }
    expect(tracker.observe(elsewhere)).toEqual([])
  })

  it('reports a surge of error logs against the workload own error rate, when the minute closes', () => {
    const tracker = new LogPatternTracker({ warmupRecords: 10 })
    const minute = 60_000
    let ts = start
    for (let m = 0; m < 90; m++) {
      for (let i = 0; i < 20; i++) tracker.observe(log(`GET /cart took ${i} ms`, (ts += 1_000)))
      tracker.observe(log(`ERROR timeout calling payment after ${m % 5} s`, (ts += 500), 'error'))
      ts = start + (m + 1) * minute
    }
    for (let i = 0; i < 60; i++)
      tracker.observe(log(`ERROR timeout calling payment after ${i % 5} s`, ts + i * 500, 'error'))
    const surge = tracker.observe(log('GET /cart took 3 ms', ts + minute + 1_000))
    expect(surge.map((a) => a.kind)).toContain('error_surge')
    const anomaly = surge.find((a) => a.kind === 'error_surge')
    expect(anomaly?.evidence[0]?.observed).toBe(60)
  })

  it('flags a rare template that suddenly fills a minute', () => {
    const tracker = new LogPatternTracker({ warmupRecords: 10 })
    for (let i = 0; i < 50; i++) tracker.observe(log(`GET /cart took ${i} ms`, start + i * 1000))
    tracker.observe(log('WARN cache miss for key 1', start + 60_000))
    const burst = Array.from({ length: 60 }, (_, i) =>
      tracker.observe(log(`WARN cache miss for key ${i}`, start + 120_000 + i * 100)),
    ).flat()
    expect(burst.map((a) => a.kind)).toEqual(['rare_template_burst'])
  })
})
