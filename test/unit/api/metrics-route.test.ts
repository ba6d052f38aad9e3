import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../../../api/index.js'
import { counter, createMetricsRegistry, histogram } from '../../../core/index.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

describe('GET /metrics', () => {
  const metrics = createMetricsRegistry({ defaultMetrics: false })
  let app: Awaited<ReturnType<typeof createApiServer>>

  beforeAll(async () => {
    counter(metrics, 'argus_test_rows_total', 'Rows', ['table']).inc({ table: 'log_lines' }, 7)
    counter(metrics, 'argus_test_other_total', 'Other').inc(3)
    histogram(metrics, 'argus_test_duration_seconds', 'Duration').observe(0.2)
    app = await createApiServer({
      logger: quietLogger(),
      metrics,
      bodyLimitBytes: 1 << 20,
      readiness: [],
      isShuttingDown: () => false,
    })
  })
  afterAll(async () => {
    await app.close()
  })

  /** Metric names in an exposition, from its TYPE lines. */
  const namesIn = (text: string): string[] =>
    text
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2] as string)

  it('serves every metric without a filter', async () => {
    const response = await app.inject({ url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/plain')
    expect(namesIn(response.body).sort()).toEqual([
      'argus_test_duration_seconds',
      'argus_test_other_total',
      'argus_test_rows_total',
    ])
  })

  it('serves only the named metrics, each once, in the exposition format', async () => {
    const response = await app.inject({
      url: '/metrics?name=argus_test_rows_total&name=argus_test_duration_seconds&name=argus_test_rows_total',
    })
    expect(response.statusCode).toBe(200)
    expect(namesIn(response.body)).toEqual(['argus_test_rows_total', 'argus_test_duration_seconds'])
    expect(response.body).toContain('argus_test_rows_total{table="log_lines"} 7\n')
    expect(response.body).toContain('argus_test_duration_seconds_count 1\n')
    expect(response.body).not.toContain('argus_test_other_total')
    expect(response.body.endsWith('\n')).toBe(true)
  })

  it('leaves out a well-formed name that is not registered', async () => {
    const response = await app.inject({
      url: '/metrics?name=argus_not_registered&name=argus_test_other_total',
    })
    expect(response.statusCode).toBe(200)
    expect(namesIn(response.body)).toEqual(['argus_test_other_total'])
    const none = await app.inject({ url: '/metrics?name=argus_not_registered' })
    expect(none.statusCode).toBe(200)
    expect(none.body).toBe('')
  })

  it('refuses a name that is not a metric name, and unknown parameters', async () => {
    const bad = await app.inject({ url: '/metrics?name=rows%20total' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.code).toBe('ARGUS_ERR_BAD_INPUT')
    expect(bad.json().error.message).toMatch(/name/)
    const unknown = await app.inject({ url: '/metrics?match=argus_test_rows_total' })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json().error.code).toBe('ARGUS_ERR_BAD_INPUT')
  })
})
