import { describe, expect, it } from 'vitest'
import { checkMetricBatch, checkMetricSeries, type MetricBatch } from '../../../core/index.js'
import { samplesOfBatch } from '../../helpers/metric-batch-samples.js'

const series = (name: string) => ({
  cluster: 'c1',
  namespace: 'shop',
  pod: 'cart-0',
  name,
  labels: { code: '200' },
  seriesId: name === 'up' ? '00000000000000aa' : '00000000000000bb',
})
const batch = (): MetricBatch => ({
  series: [series('up'), series('http_requests_total')],
  seriesIndex: [0, 1, 0],
  ts: [1_000, 1_000, 2_000],
  value: [1, 42.5, 0],
})

describe('MetricBatch', () => {
  it('gives its points as samples, in order, each with its series', () => {
    expect(samplesOfBatch(batch()).map((s) => [s.name, s.ts, s.value, s.seriesId, s.pod])).toEqual([
      ['up', 1_000, 1, '00000000000000aa', 'cart-0'],
      ['http_requests_total', 1_000, 42.5, '00000000000000bb', 'cart-0'],
      ['up', 2_000, 0, '00000000000000aa', 'cart-0'],
    ])
  })

  it('refuses a batch whose columns do not line up, as bad input that is not retried', () => {
    expect(() => checkMetricBatch(batch())).not.toThrow()
    const refusals: Array<[Partial<Record<keyof MetricBatch, unknown>>, RegExp]> = [
      [{ seriesIndex: [0, 1] }, /differ in length/],
      [{ value: [1, 2, 3, 4] }, /differ in length/],
      [{ seriesIndex: [0, 2, 0] }, /point 1 names no series/],
      [{ seriesIndex: [0, -1, 0] }, /point 1 names no series/],
      [{ seriesIndex: [0, 0.5, 0] }, /point 1 names no series/],
      [{ ts: [1_000, 0, 2_000] }, /point 1 has no valid time/],
      [{ ts: [1_000, 1.5, 2_000] }, /point 1 has no valid time/],
      [{ ts: [1_000, '1000', 2_000] }, /point 1 has no valid time/],
      [{ value: [1, null, 0] }, /point 1 has no numeric value/],
      [{ ts: undefined }, /must be arrays/],
    ]
    for (const [change, message] of refusals) {
      const bad = { ...batch(), ...change } as MetricBatch
      expect(() => checkMetricBatch(bad)).toThrow(message)
      expect(() => checkMetricBatch(bad)).toThrow(
        expect.objectContaining({ code: 'ARGUS_ERR_BAD_INPUT', retriable: false }),
      )
    }
  })

  it('refuses a series without an id, name, cluster or labels', () => {
    expect(() => checkMetricSeries(series('up'))).not.toThrow()
    const { seriesId: _id, ...noId } = series('up')
    for (const bad of [
      undefined,
      null,
      noId,
      { ...series('up'), name: 7 },
      { ...series('up'), labels: null },
    ])
      expect(() => checkMetricSeries(bad as never)).toThrow(
        expect.objectContaining({
          code: 'ARGUS_ERR_BAD_INPUT',
          message: expect.stringMatching(/no id, name/),
        }),
      )
  })
})
