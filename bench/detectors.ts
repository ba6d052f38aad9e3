/**
 * Detector benchmark: speed and memory of the streaming metric detector and the log template
 * miner, and the speed of the log pattern tracker and the metric indicators: the per-point,
 * per-record and per-sample work of the analyzers.
 *
 *   npm run bench:detectors -- [--series 10000] [--points 2000] [--logs 500000] [--samples 20000] [--batch 2000]
 */
import { parseArgs } from 'node:util'
import {
  LogPatternTracker,
  LogTemplateMiner,
  MetricIndicators,
  StreamingDetector,
} from '../analyzers/index.js'
import { metricSeriesId, type LogRecord, type MetricSample } from '../core/index.js'

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    points: { type: 'string', default: '300' },
    logs: { type: 'string', default: '500000' },
    samples: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '2000' },
  },
})
const seriesCount = Number(values.series)
const points = Number(values.points)
const logCount = Number(values.logs)
/** Heap plus typed-array buffers (the daily profiles live there), after a full collection. */
const heapMiB = (): number => {
  globalThis.gc?.()
  const usage = process.memoryUsage()
  return (usage.heapUsed + usage.arrayBuffers) / 1024 / 1024
}

// Metric detectors: many series, five-minute points (so each keeps a daily profile).
const before = heapMiB()
const detectors = Array.from({ length: seriesCount }, () => new StreamingDetector())
const base = Date.parse('2026-01-01T00:00:00Z')
let sink = 0
const started = performance.now()
for (let p = 0; p < points; p++) {
  const ts = base + p * 300_000
  for (let s = 0; s < seriesCount; s++)
    sink += (detectors[s] as StreamingDetector).update(
      100 + 20 * Math.sin((p + s) / 40) + ((p * 7 + s) % 13),
      ts,
    ).score
}
const seconds = (performance.now() - started) / 1000
const perSeries = ((heapMiB() - before) * 1024 * 1024) / detectors.length // keeps them alive until measured
console.log(`metric detector     ${seriesCount} series x ${points} points`)
console.log(`  per point         ${((seconds * 1e6) / (seriesCount * points)).toFixed(2)} us`)
console.log(`  points/s          ${Math.round((seriesCount * points) / seconds)}`)
console.log(
  `  memory per series ${(perSeries / 1024).toFixed(1)} KiB (daily profile of 288 slots and 48-slot envelope included)`,
)
console.log(
  `  process RSS       ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB with ${seriesCount} active series`,
)

// Log template miner: a realistic mix of request lines, errors and one-off messages.
const services = ['cart', 'checkout', 'frontend', 'catalog', 'payment', 'shipping']
const shapes = [
  (n: number) => `GET /api/${services[n % 6]}/${n % 977} took ${n % 250} ms status=200`,
  (n: number) => `ERROR upstream ${services[n % 6]} timed out after ${n % 30} s (attempt ${n % 3})`,
  (n: number) => `user ${n.toString(16)} logged in from 10.0.${n % 255}.${n % 200}`,
  (n: number) => `cache ${n % 2 === 0 ? 'hit' : 'miss'} for key session:${n}`,
  (n: number) => `job ${n % 40} finished in ${n % 9000} ms with ${n % 17} warnings`,
]
const messages = Array.from({ length: logCount }, (_, n) =>
  (shapes[n % shapes.length] as (n: number) => string)(n),
)
const miner = new LogTemplateMiner()
const minerStarted = performance.now()
for (const message of messages) sink += miner.add(message).count
const minerSeconds = (performance.now() - minerStarted) / 1000
console.log(`log template miner  ${logCount} records`)
console.log(`  per record        ${((minerSeconds * 1e6) / logCount).toFixed(2)} us`)
console.log(`  records/s         ${Math.round(logCount / minerSeconds)}`)
console.log(`  templates         ${miner.size} (bounded by maxTemplates, 10,000 by default)`)
// Log pattern tracker: the miner's records, their workloads interleaved as a shipper's chunk mixes pods.
const records: LogRecord[] = messages.map((message, n) => ({
  ts: base + n,
  cluster: 'default',
  namespace: `ns-${n % 3}`,
  workload: { kind: 'Deployment', name: services[n % 6] as string },
  message,
  level: 'info',
  source: 'bench',
  templateId: `t${n % 40}`,
}))
const tracker = new LogPatternTracker()
const trackerStarted = performance.now()
for (const record of records) sink += tracker.observe(record).length
const trackerSeconds = (performance.now() - trackerStarted) / 1000
console.log(`log pattern tracker ${logCount} records, 18 workloads`)
console.log(`  per record        ${((trackerSeconds * 1e6) / logCount).toFixed(3)} us`)

// Metric indicators: remote_write's shape, each series once per 15 s round, pods interleaved, a
// round's series spread over requests of `--batch` samples (a Prometheus shards them), each request
// a bus batch that is flushed; each series carries the id the remote_write decoder gives it.
const sampleCount = Number(values.samples)
const batch = Number(values.batch)
const sampleNames = [
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'http_requests_total',
  'http_request_duration_seconds_sum',
]
const rounds = 12
const indicators = new MetricIndicators()
const seriesIds: string[] = []
let addSeconds = 0
let flushSeconds = 0
for (let round = 0; round < rounds; round++) {
  // Built per round, as decoding builds them: fresh objects and strings.
  const samples: MetricSample[] = Array.from({ length: sampleCount }, (_, n) => {
    const service = `svc-${n % 50}`
    const name = sampleNames[n % sampleNames.length] as string
    const sample: MetricSample = {
      ts: base + round * 15_000,
      cluster: 'default',
      namespace: `ns-${n % 5}`,
      pod: `${service}-6d4cf56db6-${(n % 7).toString().padStart(5, 'q')}`,
      container: service,
      workload: { kind: 'Deployment', name: service },
      name,
      value: (n % 1000) + round * 10,
      labels: {
        code: String(200 + (n % 3) * 150),
        id: String(n),
        instance: `10.0.${n % 20}.${n % 200}:9100`,
      },
    }
    sample.seriesId = seriesIds[n] ??= metricSeriesId(sample)
    return sample
  })
  for (let start = 0; start < samples.length; start += batch) {
    const end = Math.min(samples.length, start + batch)
    const addStarted = performance.now()
    for (let i = start; i < end; i++) indicators.add(samples[i] as MetricSample)
    const flushStarted = performance.now()
    sink += indicators.flush().length
    addSeconds += (flushStarted - addStarted) / 1000
    flushSeconds += (performance.now() - flushStarted) / 1000
  }
}
console.log(
  `metric indicators   ${sampleCount} series x ${rounds} rounds in batches of ${batch}, ${indicators.podCount} pods`,
)
console.log(`  add per sample    ${((addSeconds * 1e6) / (sampleCount * rounds)).toFixed(3)} us`)
console.log(`  flush per sample  ${((flushSeconds * 1e6) / (sampleCount * rounds)).toFixed(3)} us`)
if (Number.isNaN(sink)) console.log('(unreachable: keeps the work from being optimised away)')
