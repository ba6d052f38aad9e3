/** What the HTTP benchmarks share: sending with a shipper's retry on 503, and waiting for storage. */
import { readFileSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { Agent, request as httpRequest } from 'node:http'
import { machineReference } from './machine-reference.js'

/**
 * An interrupted benchmark (Ctrl-C, `timeout`'s SIGTERM) or one that dies of an error takes the
 * processes it started with it, instead of leaving a server running on its own.
 */
export function stopWithBenchmark(...children: Array<ChildProcess | { child: ChildProcess }>): void {
  const processes = children.map((c) => ('child' in c ? c.child : c))
  const killAll = (): void => {
    for (const child of processes)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.once('exit', killAll)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)
    process.once(signal, () => {
      killAll()
      process.exit(code)
    })
}

export interface SendStats {
  /** 503 answers (backpressure) that were waited out and resent. */
  retries: number
}

/** One POST on a kept-alive connection of `agent`: the answer's status, its body read and dropped. */
function post(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(body)
  })
}

/**
 * Posts `requests` bodies over `concurrency` connections, each resent after 100 ms when Argus
 * answers 503, as fluentd and Prometheus do; any other answer than `okStatus` stops the run.
 * Bodies go out as bytes on node:http's kept-alive connections: undici's fetch took about 1 µs of
 * CPU per log event to send them (0.2 with node:http), on the two cores the server is measured on,
 * where shippers written in C (fluent-bit) or Go (Prometheus) spend far less.
 */
export async function sendAll(options: {
  url: string
  bodies: ReadonlyArray<string | Buffer>
  requests: number
  concurrency: number
  headers: Record<string, string>
  okStatus: number
}): Promise<SendStats> {
  const stats: SendStats = { retries: 0 }
  const url = new URL(options.url)
  if (url.protocol !== 'http:') throw new Error(`${options.url}: the benchmarks send over plain http`)
  const bodies = options.bodies.map((body) => (typeof body === 'string' ? Buffer.from(body) : body))
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.requests) {
          const body = bodies[next++ % bodies.length] as Buffer
          for (;;) {
            const status = await post(url, agent, options.headers, body)
            if (status === options.okStatus) break
            if (status !== 503) throw new Error(`${options.url} answered ${status}`)
            stats.retries++
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      }),
    )
  } finally {
    agent.destroy()
  }
  return stats
}

/** Rows written to a table so far, from the server's own metrics. */
export async function rowsStored(url: string, table: string): Promise<number> {
  // Only the counter: a full scrape every 50 ms would cost the measured server CPU. (A server older
  // than the filter ignores it and answers everything, which still holds the counter.)
  const text = await (await fetch(`${url}/metrics?name=argus_storage_rows_written_total`)).text()
  const match = new RegExp(`argus_storage_rows_written_total\\{table="${table}"\\} (\\d+)`).exec(text)
  return Number(match?.[1] ?? 0)
}

/**
 * Where a signal is stored, now and on older servers (so a bench can measure those too): log lines
 * in `log_lines` since migration 14, whole in `logs` before; metric samples as `metric_points`
 * since migration 13, whole in `metric_samples` before.
 */
export const LOG_TABLES = ['log_lines', 'logs']
export const METRIC_TABLES = ['metric_points', 'metric_samples']

/** Waits until `table` (or the tables together) holds at least `expected` rows written by this server. */
export async function waitForRows(url: string, table: string | string[], expected: number): Promise<void> {
  const tables = Array.isArray(table) ? table : [table]
  const stored = async (): Promise<number> =>
    (await Promise.all(tables.map((name) => rowsStored(url, name)))).reduce((sum, n) => sum + n, 0)
  while ((await stored()) < expected) await new Promise((resolve) => setTimeout(resolve, 50))
}

/**
 * CPU seconds a process has used so far, all threads (Linux /proc; undefined elsewhere or when it
 * is gone). Throughput on a shared 2-core machine is noisy; CPU per event says what a change saved.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}
/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100

/** "N µs of server CPU per <unit>" (from `cpuMicrosPer`), or a note that it was not measured. */
export function cpuPerEvent(micros: number | undefined, unit = 'event'): string {
  if (micros === undefined) return 'not measured (no server process of ours)'
  return `${micros.toFixed(1)} µs per ${unit} (all server threads)`
}

/** "median X unit (min to max over N runs)": how a figure varied across repeated runs. */
export function spread(numbers: readonly number[], digits: number, unit: string): string {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  const show = (n: number | undefined): string => (n ?? 0).toFixed(digits)
  return `median ${show(median)} ${unit} (${show(sorted[0])} to ${show(sorted[sorted.length - 1])} over ${sorted.length} runs)`
}

/** What one run of a throughput benchmark measured. */
export interface RunFigures {
  /** Sustained events (or samples) per second into storage. */
  rate: number
  /** Server CPU per event in µs, when the benchmark started the server itself. */
  cpuMicros: number | undefined
}

/**
 * The `--runs` option, checked: a whole number from 1, and only with servers the benchmark starts
 * (a running server's row counts go on from one run to the next).
 */
export function runsOption(value: string | undefined, url: string | undefined): number {
  const runs = Number(value ?? 1)
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a whole number from 1, got ${value}`)
  if (runs > 1 && url) throw new Error('--runs needs servers the benchmark starts itself; drop --url')
  return runs
}

/**
 * The `--warmup N` option, checked: records sent and stored before the clock starts, so that a
 * sustained rate is the pipeline's steady state, not its start (JIT compilation in the server and
 * the Kafka broker, ClickHouse's first parts, connections). On the Kafka path, six alternating
 * pairs of 2M-line runs: 91-127k events/s without, 92-135k with 200,000 records of warm-up (higher
 * in five of the six).
 */
export function warmupOption(value: string | undefined): number {
  const records = Number(value ?? 0)
  if (!Number.isInteger(records) || records < 0)
    throw new Error(`--warmup must be a whole number of records from 0, got ${value}`)
  return records
}

/** What `--warmup` did, for the benchmark's report. */
export function describeWarmup(records: number): string {
  return records > 0 ? `${records} records stored before the clock started` : 'none'
}

/**
 * The `--kafka host:port` option as the server's environment (the broker, four partitions per
 * topic), or undefined without it; `needsKafka` names options given that only make sense with it
 * (roles meet through Kafka; with the in-process bus every role runs in the server).
 */
export function kafkaOption(
  kafka: string | undefined,
  needsKafka: Record<string, boolean | undefined>,
): Record<string, string> | undefined {
  // Checked with the other options, before any run leaves a data directory behind.
  for (const [option, given] of Object.entries(needsKafka))
    if (given && !kafka) throw new Error(`--${option} needs --kafka: roles meet through Kafka`)
  return kafka ? { KAFKA_BROKERS: kafka, KAFKA_PARTITIONS: '4' } : undefined
}

/**
 * Measures `runs` times, each run on a fresh server, then prints the median and range: runs of the
 * same code on a shared 2-core machine differ by 15-25 %, so one run says little.
 */
export async function measureRuns(
  runs: number,
  /** What the benchmark counts, singular: `event` or `sample`. */
  unit: string,
  measure: () => Promise<RunFigures>,
): Promise<void> {
  const figures: RunFigures[] = []
  const references: number[] = []
  const reference = (): void => {
    const ns = machineReference()
    references.push(ns)
    console.log(
      `machine reference  ${ns} ns per JSON.parse of a log line (lower is faster; see bench/README)`,
    )
  }
  reference()
  for (let run = 1; run <= runs; run++) {
    if (runs > 1) console.log(`--- run ${run} of ${runs}`)
    figures.push(await measure())
    reference()
  }
  if (runs === 1) return
  const rates = figures.map((f) => f.rate)
  const cpu = figures.flatMap((f) => (f.cpuMicros === undefined ? [] : [f.cpuMicros]))
  console.log('--- summary')
  console.log(`sustained          ${spread(rates, 0, `${unit}s/s`)}`)
  if (cpu.length > 0) console.log(`server CPU         ${spread(cpu, 1, `µs per ${unit}`)}`)
  console.log(`machine reference  ${Math.min(...references)} to ${Math.max(...references)} ns`)
}

/** CPU per event in µs between two readings of processCpuSeconds, if both were taken. */
export function cpuMicrosPer(
  before: number | undefined,
  after: number | undefined,
  events: number,
): number | undefined {
  return before === undefined || after === undefined ? undefined : ((after - before) * 1e6) / events
}
