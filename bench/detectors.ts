/**
 * Detector benchmark: speed and memory of the streaming metric detector and the log template
 * miner, the per-point and per-record work of the analyzers.
 *
 *   npm run bench:detectors -- [--series 10000] [--points 2000] [--logs 500000]
 */
import { parseArgs } from 'node:util'
import { LogTemplateMiner, StreamingDetector } from '../analyzers/index.js'

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '100000' },
    points: { type: 'string', default: '300' },
    logs: { type: 'string', default: '500000' },
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
if (Number.isNaN(sink)) console.log('(unreachable: keeps the work from being optimised away)')
