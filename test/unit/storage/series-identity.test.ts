import { describe, expect, it } from 'vitest'
import { metricSeriesId, TOPICS, type LogRecord, type MetricSample } from '../../../core/index.js'
import { TOPIC_TABLES } from '../../../storage/row-mappers.js'

/** The envelope of both fixtures: one container of a Deployment. */
const envelope = {
  ts: 1,
  cluster: 'prod',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'cart' },
  pod: 'cart-6d4cf56db6-x7k2p',
  container: 'cart',
}
const sample: MetricSample = {
  ...envelope,
  name: 'http_requests_total',
  value: 3,
  type: 'counter',
  labels: { code: '500', method: 'GET' },
}
const narrow = TOPIC_TABLES[TOPICS.metrics]?.narrow
const seriesIdOfRow = (value: MetricSample): unknown =>
  narrow?.narrowRow({ key: '', value, publishedAt: 0 }, ['memory', 0, 0])[3]

describe('metricSeriesId', () => {
  it('gives the ids stored series are filed under', () => {
    // Pinned: stored points name their series by these ids, so a change would split every series.
    expect(metricSeriesId(sample)).toBe('991452927146b6e3')
    expect(metricSeriesId({ ...sample, attributes: { a: 'b' } })).toBe('81287141bfff09f8')
  })

  it('tells series apart by any envelope field, name, type or label, but not by time or value', () => {
    const id = metricSeriesId(sample)
    expect(metricSeriesId({ ...sample, ts: 2, value: 9 })).toBe(id)
    for (const other of [
      { ...sample, pod: 'cart-6d4cf56db6-aaaaa' },
      { ...sample, node: 'n1' },
      { ...sample, type: 'gauge' as const },
      { ...sample, name: 'http_requests' },
      { ...sample, labels: { code: '200', method: 'GET' } },
      { ...sample, labels: { code: '500', method: 'GET', path: '/' } },
    ])
      expect(metricSeriesId(other)).not.toBe(id)
  })

  it("is what the writer files a point under, unless the sample brings its series' id", () => {
    expect(seriesIdOfRow(sample)).toBe(metricSeriesId(sample))
    expect(seriesIdOfRow({ ...sample, seriesId: '0123456789abcdef' })).toBe('0123456789abcdef')
  })
})

describe('log stream ids', () => {
  const line: LogRecord = {
    ...envelope,
    node: 'node-1',
    service: 'cart',
    message: 'GET /',
    level: 'info',
    source: 'forward',
    stream: 'stdout',
    attributes: { 'label.app': 'cart', trace_id: 'abc', 'fluent.tag': 'kube.cart' },
  }
  const logs = TOPIC_TABLES[TOPICS.logs]?.narrow
  const streamIdOfRow = (value: LogRecord): unknown =>
    logs?.narrowRow({ key: '', value, publishedAt: 0 }, ['memory', 0, 0])[3]
  /** A line of a stream none of the others has: the next line's id is then hashed afresh. */
  const unrelated: LogRecord = { ...line, cluster: 'elsewhere', attributes: {} }
  const fresh = (value: LogRecord): unknown => {
    streamIdOfRow(unrelated)
    return streamIdOfRow(value)
  }

  it('gives the ids stored lines are filed under', () => {
    // Pinned: stored lines name their stream by these ids, so a change would split every stream.
    expect(fresh(line)).toBe('b4dfd54f46ac29c6')
    expect(fresh({ ...line, attributes: { 'fluent.tag': 'kube.cart', 'label.app': 'cart' } })).toBe(
      'a640ddeb058a0e36',
    )
  })

  it('does not depend on the line before, whichever fields the two share', () => {
    const variants: LogRecord[] = [
      line,
      { ...line, ts: 2, message: 'other', level: 'error', attributes: { ...line.attributes, trace_id: 'x' } },
      { ...line, workload: { kind: 'Deployment', name: 'cart' } },
      { ...line, workload: { kind: 'StatefulSet', name: 'cart' } },
      { ...line, workload: undefined },
      { ...line, pod: 'cart-6d4cf56db6-aaaaa' },
      { ...line, stream: 'stderr' },
      { ...line, source: 'fluentd-http' },
      { ...line, node: undefined },
      { ...line, attributes: { 'label.app': 'cart' } },
      { ...line, attributes: { 'label.app': 'shop', trace_id: 'abc', 'fluent.tag': 'kube.cart' } },
      { ...line, attributes: { 'label.name': 'cart', trace_id: 'abc', 'fluent.tag': 'kube.cart' } },
      { ...line, attributes: { 'fluent.tag': 'kube.cart', 'label.app': 'cart' } },
      { ...line, attributes: { 'label.app': 'cart', 'fluent.tag': 'kube.cart', 'pod.uid': 'u1' } },
      { ...line, attributes: undefined },
    ]
    const expected = variants.map(fresh)
    // Same stream, different line: the first two, and the first and third (an equal workload).
    expect(expected[1]).toBe(expected[0])
    expect(expected[2]).toBe(expected[0])
    expect(new Set(expected.slice(2)).size).toBe(variants.length - 2)
    for (const [i, before] of variants.entries())
      for (const [j, after] of variants.entries()) {
        streamIdOfRow(before)
        expect([i, j, streamIdOfRow(after)]).toEqual([i, j, expected[j]])
      }
  })
})
