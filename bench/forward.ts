/**
 * Forward protocol benchmark: fluent-bit-style PackedForward chunks (with acks) over TCP into a
 * separate `argus start` process, until every row is in ClickHouse. Prints sustained events/s.
 *
 *   npm run bench:forward -- [--records 1000000] [--chunk 2000] [--connections 4] [--gzip]
 *     [--per-container] [--runs 1] [--warmup 200000] [--url http://host:port --forward-port N]
 *     [--kafka host:port [--without-analyzers]]
 *
 * With --runs N it measures N times, each on a fresh server, and ends with the median and range.
 * With --warmup N (200,000 by default) it first sends N records and waits until they are stored,
 * then starts the clock (see warmupOption in bench-driver).
 *
 * By default every chunk mixes the lines of 30 containers (the worst case for per-pod caches).
 * With --per-container each chunk holds one container's lines under its own tag, as fluent-bit's
 * tail input tags each log file and its forward output sends a chunk per tag.
 *
 * With --kafka host:port the server runs on Kafka (Forward -> Kafka -> writer -> ClickHouse), as
 * fluentd's forward output into a Kafka deployment; `scripts/kafka-start.sh` starts a broker. With
 * --without-analyzers as well, the server runs only the roles of that path (collector, writer, and
 * the API that counts rows), as when the analyzer group runs on other machines.
 *
 * With --url and --forward-port it drives a server that is already running (for profiling it).
 *
 * Chunks are encoded before the clock starts, so the figures are the server's.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Decoder, encode } from '@msgpack/msgpack'
import { startArgus } from '../test/helpers/argus-process.js'
import {
  waitForRows,
  stopWithBenchmark,
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
    chunk: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '4' },
    gzip: { type: 'boolean', default: false },
    'per-container': { type: 'boolean', default: false },
    url: { type: 'string' },
    runs: { type: 'string', default: '1' },
    'forward-port': { type: 'string' },
    kafka: { type: 'string' },
    'without-analyzers': { type: 'boolean', default: false },
    warmup: { type: 'string', default: '200000' },
  },
})
const totalRecords = Number(values.records)
const chunkSize = Number(values.chunk)
const connections = Number(values.connections)
const warmupChunks = Math.ceil(warmupOption(values.warmup) / chunkSize)
const runs = runsOption(values.runs, values.url)
const kafkaEnv = kafkaOption(values.kafka, { 'without-analyzers': values['without-analyzers'] })
const services = ['cart', 'checkout', 'frontend', 'catalog', 'payment', 'shipping']
const levels = ['INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG']

/** One chunk as fluent-bit's forward output sends it: [tag, entries, {chunk, size, compressed}]. */
function buildChunk(id: number): Buffer {
  const base = Math.floor(Date.now() / 1000)
  // The container whose lines the chunk holds (--per-container), or each line's own.
  const containerOf = (n: number): number => (values['per-container'] ? id : n)
  const entries = Buffer.concat(
    Array.from({ length: chunkSize }, (_, i) => {
      const n = id * chunkSize + i
      const service = services[containerOf(n) % services.length] as string
      return encode([
        base,
        {
          log: `${levels[n % levels.length]} [req ${n.toString(16)}] ${service} handled GET /api/${service}/${n % 977} in ${n % 250}ms\n`,
          stream: n % 7 === 0 ? 'stderr' : 'stdout',
          kubernetes: {
            namespace_name: 'shop',
            pod_name: `${service}-6d4cf56db6-${(containerOf(n) % 5).toString().padStart(5, 'q')}`,
            container_name: service,
            host: `node-${containerOf(n) % 6}`,
            labels: { app: service, 'pod-template-hash': '6d4cf56db6' },
          },
        },
      ])
    }),
  )
  const body = values.gzip ? gzipSync(entries) : entries
  return Buffer.from(
    encode([
      values['per-container']
        ? `kube.var.log.containers.${services[id % services.length]}-6d4cf56db6-${(id % 5).toString().padStart(5, 'q')}_shop_${services[id % services.length]}.log`
        : 'kube.var.log.containers',
      body,
      { chunk: `c${id}`, size: chunkSize, ...(values.gzip && { compressed: 'gzip' }) },
    ]),
  )
}

/** Sends chunks one after another on one connection, each after the previous one's ack. */
async function sender(port: number, chunks: Buffer[], take: () => number | undefined): Promise<void> {
  const socket: Socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const acks = new Decoder().decodeStream(socket)[Symbol.asyncIterator]()
  for (let next = take(); next !== undefined; next = take()) {
    socket.write(chunks[next % chunks.length] as Buffer)
    const ack = await acks.next()
    if (ack.done) throw new Error('connection closed before the ack')
  }
  socket.end()
}

// Built once: every run sends the same chunks, each to a fresh server.
const chunks = Array.from({ length: 20 }, (_, i) => buildChunk(i))

/** One measurement on a fresh server (or the one at --url). */
async function measure(): Promise<RunFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-forward-'))
  const server = values.url
    ? undefined
    : await startArgus({
        dataDir,
        env: {
          ARGUS_SIM: 'off',
          ...kafkaEnv,
          ...(values['without-analyzers'] && { ARGUS_ROLES: 'collector,writer,api' }),
        },
      })
  if (server) stopWithBenchmark(server)
  try {
    const url = values.url ?? server?.url
    const port = values['forward-port'] ? Number(values['forward-port']) : server?.forwardPort
    if (!url || !port) throw new Error('the server has no Forward port')
    /** Sends `count` chunks over the connections, as many as each can take in turn. */
    const send = async (count: number): Promise<void> => {
      let sent = 0
      const take = (): number | undefined => (sent < count ? sent++ : undefined)
      await Promise.all(Array.from({ length: connections }, () => sender(port, chunks, take)))
    }
    // Rows of the warm-up, stored before the clock starts (see --warmup).
    const warmedRows = warmupChunks * chunkSize
    if (warmupChunks > 0) {
      await send(warmupChunks)
      await waitForRows(url, LOG_TABLES, warmedRows)
    }
    const total = Math.ceil(totalRecords / chunkSize)
    const cpuBefore = processCpuSeconds(server?.child.pid)
    const started = performance.now()
    await send(total)
    const acked = performance.now()
    const expected = total * chunkSize
    await waitForRows(url, LOG_TABLES, warmedRows + expected)
    const stored = performance.now()
    const cpuMicros = cpuMicrosPer(cpuBefore, processCpuSeconds(server?.child.pid), expected)
    const seconds = (stored - started) / 1000
    console.log(
      `records             ${expected} in chunks of ${chunkSize}${values.gzip ? ' (gzip)' : ''}${values['per-container'] ? ', one container each' : ''}`,
    )
    console.log(`connections         ${connections}`)
    console.log(`warm-up             ${describeWarmup(warmedRows)}`)
    console.log(
      `bus                 ${values.kafka ? `Kafka at ${values.kafka}${values['without-analyzers'] ? ' (collector, writer, api)' : ''}` : 'in-process'}`,
    )
    console.log(`acknowledged        ${Math.round(expected / ((acked - started) / 1000))} events/s`)
    console.log(
      `sustained           ${Math.round(expected / seconds)} events/s into storage (${seconds.toFixed(1)} s)`,
    )
    console.log(`server CPU         ${cpuPerEvent(cpuMicros)}`)
    return { rate: expected / seconds, cpuMicros }
  } finally {
    await server?.stop('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await measureRuns(runs, 'event', measure)
