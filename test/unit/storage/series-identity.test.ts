import { describe, expect, it } from 'vitest'
import { metricSeriesId, TOPICS, type MetricSample } from '../../../core/index.js'
import { TOPIC_TABLES } from '../../../storage/row-mappers.js'

const sample: MetricSample = {
  ts: 1,
  cluster: 'prod',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'cart' },
  pod: 'cart-6d4cf56db6-x7k2p',
  container: 'cart',
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
