import { createServer, type Server } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { createInProcessBus } from '../../bus/index.js'
import { TOPICS, createMetricsRegistry, sleep, type MetricSample } from '../../core/index.js'
import { createPrometheusScraper, createRawIntake } from '../../ingest/index.js'
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
    const metrics = createMetricsRegistry({ defaultMetrics: false })
    const bus = createInProcessBus({
      logger: quietLogger(),
      metrics,
      partitions: 1,
      partitionCapacity: 10_000,
    })
    const samples: MetricSample[] = []
    await bus.subscribe<MetricSample>({
      group: 't',
      topics: [TOPICS.metrics],
      handler: async (batch) => {
        samples.push(...batch.messages.map((m) => m.value))
      },
    })
    const scraper = createPrometheusScraper({
      intake: createRawIntake({ bus, logger: quietLogger(), metrics, cluster: 'c', publishTimeoutMs: 1_000 }),
      logger: quietLogger(),
      metrics,
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
    expect(await metrics.metrics()).toMatch(
      /argus_prometheus_scrapes_total\{job="node",outcome="failed"\} [1-9]/,
    )
    await bus.stop()
  })
})
