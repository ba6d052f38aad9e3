import { createServer, type Server } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { TOPICS, sleep, type MetricSample } from '../../core/index.js'
import { createPrometheusScraper } from '../../ingest/index.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { quietLogger } from '../helpers/quiet-logger.js'

// A real HTTP target serving the text format, scraped on an interval; then the target goes away.
const exposition = `# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.42
# TYPE http_requests_total counter
http_requests_total{code="200",instance="self-reported"} 1027
`
let target: Server | undefined

afterAll(() => target?.close())

describe('Prometheus scraping', () => {
  it('adds job and instance, records up, and marks a target that went away as down', async () => {
    target = createServer((_request, response) => {
      response.setHeader('content-type', 'text/plain; version=0.0.4')
      response.end(exposition)
    })
    await new Promise<void>((resolve) => target?.listen(0, '127.0.0.1', resolve))
    const port = (target.address() as { port: number }).port
    const harness = intakeHarness()
    const samples = await harness.collect<MetricSample>(TOPICS.metrics)
    const scraper = createPrometheusScraper({
      intake: harness.intake,
      logger: quietLogger(),
      metrics: harness.metrics,
      targets: [{ url: `http://127.0.0.1:${port}/metrics`, job: 'node' }],
      intervalMs: 200,
      timeoutMs: 500,
    })
    await scraper.start()
    while (!samples.some((s) => s.name === 'up')) await sleep(20)
    const load = samples.find((s) => s.name === 'node_load1')
    expect(load).toMatchObject({
      value: 0.42,
      type: 'gauge',
      labels: { job: 'node', instance: `127.0.0.1:${port}` },
    })
    // A series with its own instance label keeps it (honor_labels).
    expect(samples.find((s) => s.name === 'http_requests_total')?.labels.instance).toBe('self-reported')
    expect(samples.find((s) => s.name === 'up')?.value).toBe(1)

    await new Promise<void>((resolve) => target?.close(() => resolve()))
    target = undefined
    const downSince = samples.length
    while (!samples.slice(downSince).some((s) => s.name === 'up' && s.value === 0)) await sleep(20)
    await scraper.stop()
    expect(
      await harness.metricTotal(/^argus_prometheus_scrapes_total\{job="node",outcome="failed"\}/),
    ).toBeGreaterThan(0)
    await harness.stop()
  })
})
