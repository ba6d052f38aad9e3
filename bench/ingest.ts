/**
 * Ingest benchmark: fluentd-format log records over HTTP -> bus -> batch writer -> ClickHouse.
 * Runs `argus start` as its own process (as in production) and drives it from this one.
 * Prints sustained events/s (first request after the warm-up until the last row is stored) and the
 * server's peak RSS.
 *
 *   npm run bench:ingest -- [--records 1000000] [--batch 2000] [--concurrency 4] [--per-container] [--runs 1] [--warmup 200000] [--url http://host:port]
 *
 * With --url it drives a server that is already running (for profiling it) and reports no RSS;
 * --ingest-url then names a separate collector to post to (roles split across processes).
 * With --kafka host:port the server runs on Kafka (ingest -> Kafka -> writer -> ClickHouse);
 * `scripts/kafka-start.sh` starts a broker. With --split-roles as well, as Kafka deployments run it:
 * one process collects (`--roles collector`), another writes, analyzes and answers queries; CPU is
 * then the sum of both. With --kafka and --without-analyzers, the servers run only what the path
 * ingest -> Kafka -> storage needs (collector, writer, and the API the benchmark counts rows
 * through): a Kafka deployment runs its analyzer group on other machines.
 * By default each line of a body is another container's (the worst case for per-pod caches). With
 * --per-container each body holds one container's lines, as fluent-bit's http output sends a chunk
 * per tag (one log file).
 * With --warmup N (200,000 by default) it first sends N records and waits until they are stored,
 * then starts the clock: the figure is the steady state, not the start (see warmupOption).
 * With --runs N it measures N times, each on a fresh server, and ends with the median and range:
 * runs of the same code on a shared 2-core machine differ by 15-25 %.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startArgus } from '../test/helpers/argus-process.js'
import {
  sendAll,
  stopWithBenchmark,
  waitForRows,
  processCpuSeconds,
  cpuPerEvent,
  cpuMicrosPer,
  measureRuns,
  runsOption,
  type RunFigures,
  LOG_TABLES,
  kafkaOption,
  warmupOption,
  describeWarmup,
} from './bench-driver.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    url: { type: 'string' },
    'split-roles': { type: 'boolean', default: false },
    'without-analyzers': { type: 'boolean', default: false },
    'per-container': { type: 'boolean', default: false },
    'ingest-url': { type: 'string' },
    kafka: { type: 'string' },
    runs: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '200000' },
  },
})
const totalRecords = Number(values.records)
const batchSize = Number(values.batch)
const concurrency = Number(values.concurrency)
const warmupRecords = warmupOption(values.warmup)
const runs = runsOption(values.runs, values.url)
const kafkaEnv = kafkaOption(values.kafka, {
  'split-roles': values['split-roles'],
  'without-analyzers': values['without-analyzers'],
})
/** The roles of the server that writes (with --split-roles, the collector runs apart). */
const writerRoles = [
  ...(values['split-roles'] ? [] : ['collector']),
  'writer',
  ...(values['without-analyzers'] ? [] : ['analyzer', 'remediator']),
  'api',
].join(',')
const partialRoles = values['split-roles'] || values['without-analyzers']

const namespaces = ['shop', 'payments', 'search', 'infra']
const services = ['cart', 'checkout', 'frontend', 'catalog', 'payment', 'shipping']
const levels = ['INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG']

/** Pre-built NDJSON bodies so the generator's cost stays out of the measurement. */
function buildBodies(count: number): string[] {
  const base = Date.now()
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: batchSize }, (_, i) => {
      const n = b * batchSize + i
      // The container whose line this is: the body's own (--per-container), or one per line.
      const c = values['per-container'] ? b : n
      const service = services[c % services.length] as string
      return JSON.stringify({
        log: `${levels[n % levels.length]} [req ${n.toString(16)}] ${service} handled GET /api/${service}/${n % 977} in ${n % 250}ms status=${n % 53 === 0 ? 500 : 200}\n`,
        stream: n % 7 === 0 ? 'stderr' : 'stdout',
        time: new Date(base + n).toISOString(),
        kubernetes: {
          namespace_name: namespaces[c % namespaces.length],
          pod_name: `${service}-6d4cf56db6-${(c % 5).toString().padStart(5, 'q')}`,
          container_name: service,
          host: `node-${c % 6}`,
          labels: { app: service, 'pod-template-hash': '6d4cf56db6' },
        },
      })
    }).join('\n'),
  )
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
  return kib / 1024
}

// Built once: every run sends the same bodies, each to a fresh server.
const requests = Math.ceil(totalRecords / batchSize)
const warmupRequests = Math.ceil(warmupRecords / batchSize)
const bodies = buildBodies(Math.min(50, requests))

/** One measurement on a fresh server (or the one at --url). */
async function measure(): Promise<RunFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-'))
  // The simulated cluster is off so the figures are the benchmark's own records.
  const server = values.url
    ? undefined
    : await startArgus({
        dataDir,
        env: {
          ARGUS_SIM: 'off',
          ...kafkaEnv,
          ...(partialRoles && { ARGUS_ROLES: writerRoles }),
        },
      })
  // A data directory of its own: the collector keeps no storage, and chdb takes one directory per process.
  const collector =
    server && values['split-roles']
      ? await startArgus({
          dataDir: join(dataDir, 'collector'),
          env: { ARGUS_SIM: 'off', ...kafkaEnv, ARGUS_ROLES: 'collector' },
        })
      : undefined
  if (server) stopWithBenchmark(server, ...(collector ? [collector] : []))
  const url = values.url ?? server?.url
  if (!url) throw new Error('no server to benchmark')
  const serverCpu = (): number | undefined => {
    const own = processCpuSeconds(server?.child.pid)
    if (!collector || own === undefined) return own
    const other = processCpuSeconds(collector.child.pid)
    return other === undefined ? undefined : own + other
  }
  const send = (count: number): ReturnType<typeof sendAll> =>
    sendAll({
      url: `${values['ingest-url'] ?? collector?.url ?? url}/ingest/logs`,
      bodies,
      requests: count,
      concurrency,
      headers: { 'content-type': 'application/x-ndjson' },
      okStatus: 202,
    })
  try {
    // Rows of the warm-up, stored before the clock starts (see --warmup).
    const warmedRows = warmupRequests * batchSize
    if (warmupRequests > 0) {
      await send(warmupRequests)
      await waitForRows(url, LOG_TABLES, warmedRows)
    }
    const cpuBefore = serverCpu()
    const started = performance.now()
    const { retries } = await send(requests)
    const accepted = performance.now()
    const expected = requests * batchSize
    await waitForRows(url, LOG_TABLES, warmedRows + expected)
    const stored = performance.now()
    const cpuMicros = cpuMicrosPer(cpuBefore, serverCpu(), expected)

    const seconds = (stored - started) / 1000
    console.log(`records            ${expected}`)
    console.log(
      `bus                ${values.kafka ? `Kafka at ${values.kafka}${collector ? ', collector in a process of its own' : ''}` : 'in-process'}`,
    )
    if (partialRoles) console.log(`server roles       ${writerRoles}${collector ? ' (and collector)' : ''}`)
    console.log(`batch / concurrency ${batchSize} / ${concurrency}`)
    console.log(`warm-up            ${describeWarmup(warmedRows)}`)
    console.log(
      `bodies             ${values['per-container'] ? "one container's lines each" : "each line another container's"}`,
    )
    console.log(
      `intake             ${Math.round(expected / ((accepted - started) / 1000))} events/s accepted over HTTP`,
    )
    console.log(
      `sustained          ${Math.round(expected / seconds)} events/s into storage (${seconds.toFixed(1)} s end to end)`,
    )
    console.log(`server CPU        ${cpuPerEvent(cpuMicros)}`)
    console.log(`503 retries        ${retries}`)
    if (server) console.log(`server peak RSS    ${peakRssMiB(server.child.pid as number).toFixed(0)} MiB`)
    if (collector)
      console.log(`collector peak RSS ${peakRssMiB(collector.child.pid as number).toFixed(0)} MiB`)
    return { rate: expected / seconds, cpuMicros }
  } finally {
    await collector?.stop('SIGTERM')
    await server?.stop('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await measureRuns(runs, 'event', measure)
