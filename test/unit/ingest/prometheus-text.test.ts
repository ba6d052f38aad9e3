import { describe, expect, it } from 'vitest'
import { parsePrometheusText, toMetricSamples } from '../../../ingest/index.js'
import { argusErrorOf } from '../../helpers/argus-error-of.js'

const cadvisor = `# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="cart",id="/kubepods/pod1/c1",image="shop/cart:1.2",name="c1",namespace="shop",pod="cart-6d4cf56db6-7k2xq"} 1234.5 1700000000123
container_cpu_usage_seconds_total{container="POD",namespace="shop",pod="cart-6d4cf56db6-7k2xq"} 0.01 1700000000123
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="cart",namespace="shop",pod="cart-6d4cf56db6-7k2xq"} 1.2582912e+08 1700000000123
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{service="cart",le="0.1"} 90
http_request_duration_seconds_bucket{service="cart",le="+Inf"} 100
http_request_duration_seconds_sum{service="cart"} 6.5
http_request_duration_seconds_count{service="cart"} 100
weird_metric{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb"} NaN
`

describe('parsePrometheusText', () => {
  it('keeps every label of histogram series, with the family type', () => {
    const samples = parsePrometheusText(cadvisor)
    const histogram = samples.filter((s) => s.name.startsWith('http_request_duration_seconds'))
    expect(histogram.map((s) => [s.name, s.labels, s.value, s.type])).toEqual([
      ['http_request_duration_seconds_bucket', { service: 'cart', le: '0.1' }, 90, 'histogram'],
      ['http_request_duration_seconds_bucket', { service: 'cart', le: '+Inf' }, 100, 'histogram'],
      ['http_request_duration_seconds_sum', { service: 'cart' }, 6.5, 'histogram'],
      ['http_request_duration_seconds_count', { service: 'cart' }, 100, 'histogram'],
    ])
  })

  it('reads timestamps, exponents and escaped label values', () => {
    const samples = parsePrometheusText(cadvisor)
    expect(samples[0]).toMatchObject({ value: 1234.5, timestampMs: 1700000000123, type: 'counter' })
    expect(samples.find((s) => s.name === 'container_memory_working_set_bytes')?.value).toBe(125829120)
    const weird = samples.find((s) => s.name === 'weird_metric')
    expect(weird?.labels).toEqual({ path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' })
    expect(weird?.value).toBeNaN()
  })

  it('names the line of a malformed sample', () => {
    expect(argusErrorOf(() => parsePrometheusText('ok 1\nbad{a="1" 2\n')).message).toContain('line 2')
    expect(argusErrorOf(() => parsePrometheusText('x abc')).message).toContain('not a number')
  })
})

describe('toMetricSamples', () => {
  it('fills the envelope from cAdvisor labels and drops pause-container and NaN series', () => {
    const samples = toMetricSamples(parsePrometheusText(cadvisor), {
      cluster: 'prod',
      now: 1,
      node: 'node-1',
    })
    expect(samples.some((s) => s.container === 'POD')).toBe(false)
    expect(samples.some((s) => s.name === 'weird_metric')).toBe(false)
    expect(samples[0]).toMatchObject({
      ts: 1700000000123,
      cluster: 'prod',
      namespace: 'shop',
      pod: 'cart-6d4cf56db6-7k2xq',
      container: 'cart',
      node: 'node-1',
      workload: { kind: 'Deployment', name: 'cart' },
      type: 'counter',
    })
  })
})
