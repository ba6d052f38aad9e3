/**
 * Time to alert, end to end: `argus start` on its simulated cluster injects each fault kind in turn;
 * a local webhook receiver (Alertmanager v4 format) records when each incident reaches it. Prints,
 * per fault, the time from fault onset to the first message about an incident opened by it, and
 * whether that message already named the injected root cause; then p50/p95.
 *
 *   npm run bench:time-to-alert -- [--step 2s] [--faults 8] [--group-wait 1s]
 *
 * The step is the scrape interval: detection needs one or two samples after onset, so time to
 * alert grows with it. Alertmanager's own defaults (30 s group_wait, rules evaluated every minute)
 * are not used: the route here is what a team paging on Argus incidents would configure.
 */
import { stopWithBenchmark } from './bench-driver.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../core/index.js'
import { simulatedClusterEnv, startArgus } from '../test/helpers/argus-process.js'

const { values } = parseArgs({
  options: {
    step: { type: 'string', default: '2s' },
    faults: { type: 'string', default: '8' },
    'group-wait': { type: 'string', default: '1s' },
  },
})
const stepMs = parseDuration(values.step) ?? 2_000
const faults = Number(values.faults)
const warmupPoints = 30
// Room for a baseline before each fault and for the incident to resolve before the next.
const intervalMs = (warmupPoints + 10) * stepMs

interface Received {
  at: number
  alerts: Array<{ status: string; startsAt: string; annotations: Record<string, string> }>
}
const received: Received[] = []
const server = createServer((request, response) => {
  let data = ''
  request.on('data', (chunk: Buffer) => (data += chunk.toString()))
  request.on('end', () => {
    received.push({ at: Date.now(), ...(JSON.parse(data) as Omit<Received, 'at'>) })
    response.writeHead(200).end()
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port

const dataDir = mkdtempSync(join(tmpdir(), 'argus-time-to-alert-'))
const configFile = join(dataDir, 'alerts.yaml')
writeFileSync(
  configFile,
  [
    'route:',
    '  receiver: ops',
    '  group_by: [incident]',
    `  group_wait: ${values['group-wait']}`,
    '  group_interval: 5s',
    'receivers:',
    `  - { name: ops, webhook: { url: 'http://127.0.0.1:${port}/' } }`,
  ].join('\n'),
)
const argus = await startArgus({
  dataDir,
  env: simulatedClusterEnv(dataDir, {
    ARGUS_SIM_STEP_MS: String(stepMs),
    ARGUS_SIM_FAULT_INTERVAL_MS: String(intervalMs),
    ARGUS_SIM_FAULT_DURATION_MS: String(10 * stepMs),
    ARGUS_ANALYZER_METRIC_WARMUP_POINTS: String(warmupPoints),
    ARGUS_ANALYZER_INCIDENT_WINDOW_MS: String(10 * stepMs),
    ARGUS_ANALYZER_INCIDENT_QUIET_MS: String(15 * stepMs),
    ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS: '0',
    ARGUS_ALERTS_CONFIG: configFile,
  }),
})
stopWithBenchmark(argus)
console.log(
  `scrape step ${stepMs} ms, group_wait ${values['group-wait']}, ${faults} faults, one every ${intervalMs / 1000} s`,
)

interface Injected {
  fault: string
  startTs: number
  rootCause: { kind: string; name: string }
}
const injected = (): Injected[] =>
  argus.logs.filter((line) => line.includes('demo: injecting')).map((line) => JSON.parse(line) as Injected)

try {
  // Each fault's alert window closes when the next fault starts (plus the last one's interval).
  const deadline = Date.now() + (faults + 1) * intervalMs + 30_000
  while (injected().length < faults + 1 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  const rows: Array<{ fault: string; ms: number | undefined; named: boolean }> = []
  const all = injected()
  for (let i = 0; i < Math.min(faults, all.length); i++) {
    const fault = all[i] as Injected
    const until = all[i + 1]?.startTs ?? fault.startTs + intervalMs
    const first = received.find(
      (r) =>
        r.at >= fault.startTs &&
        r.at < until &&
        r.alerts.some((a) => a.status === 'firing' && Date.parse(a.startsAt) >= fault.startTs - stepMs),
    )
    const named = received.some(
      (r) =>
        r.at >= fault.startTs &&
        r.at < until &&
        r.alerts.some((a) => (a.annotations.rootCauses ?? '').split('\n')[0]?.includes(fault.rootCause.name)),
    )
    rows.push({ fault: fault.fault, ms: first ? first.at - fault.startTs : undefined, named })
    if (process.env.BENCH_VERBOSE)
      for (const r of received.filter((r) => r.at >= fault.startTs && r.at < until))
        console.log(
          `  ${fault.fault} +${r.at - fault.startTs} ms:`,
          r.alerts.map(
            (a) =>
              `${a.status} starts ${Date.parse(a.startsAt) - fault.startTs} ${(a.annotations.rootCauses ?? '').split('\n')[0]?.slice(0, 50)}`,
          ),
        )
  }
  for (const row of rows)
    console.log(
      `${row.fault.padEnd(24)} ${row.ms === undefined ? 'no alert' : `${(row.ms / 1000).toFixed(1)} s`.padStart(8)}  ${row.named ? 'root cause named first' : 'root cause not first'}`,
    )
  const times = rows.flatMap((r) => (r.ms === undefined ? [] : [r.ms])).sort((a, b) => a - b)
  const quantile = (q: number): number =>
    times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? Number.NaN
  console.log(`alerted            ${times.length} of ${rows.length} faults`)
  console.log(`root cause first   ${rows.filter((r) => r.named).length} of ${rows.length}`)
  console.log(`time to alert p50  ${(quantile(0.5) / 1000).toFixed(1)} s`)
  console.log(`time to alert p95  ${(quantile(0.95) / 1000).toFixed(1)} s`)
} finally {
  await argus.stop('SIGTERM')
  server.closeAllConnections()
  server.close()
  rmSync(dataDir, { recursive: true, force: true })
}
