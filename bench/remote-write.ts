/**
 * remote_write benchmark: snappy-compressed protobuf WriteRequests, as Prometheus sends them, into a
 * separate `argus start` process, until every sample is in ClickHouse. Prints sustained samples/s.
 *
 *   npm run bench:remote-write -- [--samples 1000000] [--series 2000] [--concurrency 4] [--runs 1]
 *     [--warmup 200000] [--url URL]
 *
 * With --runs N it measures N times, each on a fresh server, and ends with the median and range.
 * With --warmup N (200,000 by default) it first sends N samples, the first scrape rounds, and
 * waits until they are stored, then starts the clock (see warmupOption in bench-driver): every
 * series is then known to the server, as it is to one that has run for a minute.
 *
 * With --url it drives a server that is already running (for profiling it).
 *
 * Requests are encoded before the clock starts. As a Prometheus sends them: up to 2,000 samples per
 * request, each of the `--active-series` series once per 15 s scrape round, rounds in time order
 * (a round spans several requests), counters counting up.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { compressSync } from 'snappy'
import { REMOTE_WRITE_PROTO } from '../ingest/index.js'
import { startArgus } from '../test/helpers/argus-process.js'
import {
  sendAll,
  waitForRows,
  stopWithBenchmark,
  processCpuSeconds,
  cpuPerEvent,
  cpuMicrosPer,
  measureRuns,
  runsOption,
  type RunFigures,
  METRIC_TABLES,
  warmupOption,
  describeWarmup,
} from './bench-driver.js'

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000000' },
    series: { type: 'string', default: '2000' },
    'active-series': { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '4' },
    url: { type: 'string' },
    runs: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '200000' },
  },
})
const total = Number(values.samples)
const perRequest = Number(values.series)
const concurrency = Number(values.concurrency)
const runs = runsOption(values.runs, values.url)
const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')
const metricNames = [
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'http_requests_total',
  'http_request_duration_seconds_sum',
]

const activeSeries = Number(values['active-series'])
const requests = Math.ceil(total / perRequest)
const warmupRequests = Math.ceil(warmupOption(values.warmup) / perRequest)
const requestsPerRound = Math.max(1, Math.ceil(activeSeries / perRequest))
const SCRAPE_INTERVAL_MS = 15_000
// Recent, so that no sample is older than the retention: the last round is about now.
const firstRoundTs =
  Date.now() - Math.ceil((warmupRequests + requests) / requestsPerRound) * SCRAPE_INTERVAL_MS

function request(index: number): Buffer {
  const round = Math.floor(index / requestsPerRound)
  const ts = firstRoundTs + round * SCRAPE_INTERVAL_MS
  const timeseries = Array.from({ length: perRequest }, (_, i) => {
    const n = ((index % requestsPerRound) * perRequest + i) % activeSeries
    const service = `svc-${n % 50}`
    const name = metricNames[n % metricNames.length] as string
    return {
      labels: [
        { name: '__name__', value: name },
        { name: 'namespace', value: `ns-${n % 5}` },
        { name: 'pod', value: `${service}-6d4cf56db6-${(n % 7).toString().padStart(5, 'q')}` },
        { name: 'container', value: service },
        // What tells a pod's series apart (cAdvisor's cgroup id, a handler, a status code).
        { name: 'id', value: String(n) },
        { name: 'instance', value: `10.0.${n % 20}.${n % 200}:9100` },
      ],
      samples: [{ value: name.endsWith('_bytes') ? n % 1000 : (n % 1000) + round * 10, timestamp: ts }],
    }
  })
  return compressSync(Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish()))
}

// Encoded once, before any clock starts: every run sends the same requests, each to a fresh server.
// The warm-up's come first, in time order with the measured ones.
const warmupBodies = Array.from({ length: warmupRequests }, (_, i) => request(i))
const bodies = Array.from({ length: requests }, (_, i) => request(warmupRequests + i))
const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }

/** One measurement on a fresh server (or the one at --url). */
async function measure(): Promise<RunFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-rw-'))
  const server = values.url ? undefined : await startArgus({ dataDir, env: { ARGUS_SIM: 'off' } })
  if (server) stopWithBenchmark(server)
  const url = values.url ?? server?.url ?? ''
  try {
    // Samples of the warm-up, stored before the clock starts (see --warmup).
    const warmedSamples = warmupRequests * perRequest
    if (warmupRequests > 0) {
      const write = `${url}/api/v1/write`
      await sendAll({
        url: write,
        bodies: warmupBodies,
        requests: warmupRequests,
        concurrency,
        headers,
        okStatus: 204,
      })
      await waitForRows(url, METRIC_TABLES, warmedSamples)
    }
    const cpuBefore = processCpuSeconds(server?.child.pid)
    const started = performance.now()
    const { retries } = await sendAll({
      url: `${url}/api/v1/write`,
      bodies,
      requests,
      concurrency,
      headers,
      okStatus: 204,
    })
    const accepted = performance.now()
    const expected = requests * perRequest
    await waitForRows(url, METRIC_TABLES, warmedSamples + expected)
    const stored = performance.now()
    const cpuMicros = cpuMicrosPer(cpuBefore, processCpuSeconds(server?.child.pid), expected)
    const seconds = (stored - started) / 1000
    console.log(
      `samples            ${expected} in requests of ${perRequest}, ${activeSeries} series scraped every 15 s`,
    )
    console.log(`warm-up            ${describeWarmup(warmedSamples)}`)
    console.log(`accepted           ${Math.round(expected / ((accepted - started) / 1000))} samples/s`)
    console.log(
      `sustained          ${Math.round(expected / seconds)} samples/s into storage (${seconds.toFixed(1)} s)`,
    )
    console.log(`server CPU        ${cpuPerEvent(cpuMicros, 'sample')}`)
    console.log(`503 retries        ${retries}`)
    return { rate: expected / seconds, cpuMicros }
  } finally {
    await server?.stop('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await measureRuns(runs, 'sample', measure)
