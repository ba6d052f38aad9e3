/**
 * Time to alert, Argus next to Prometheus + Alertmanager on the same telemetry. A simulated
 * cluster runs in this process and serves each node's metrics as a Prometheus target; Argus
 * (`argus start`, its Prometheus scraper) and Prometheus both scrape them at their default
 * intervals (15 s and 1 min). Prometheus evaluates golden-signal rules (error ratio, latency,
 * CPU throttling, memory near the limit) at its default interval, and sends to Alertmanager;
 * both Alertmanager and Argus route with Alertmanager's defaults (group_wait 30 s), to a local
 * webhook. Each fault's time to alert is fault onset to the first firing message after it.
 *
 *   scripts/install-prometheus-stack.sh            # Debian's prometheus and prometheus-alertmanager
 *   npm run bench:alertmanager-compare -- [--faults cpu_hog,bad_release,slow_database] [--interval 8m]
 *
 * It runs in real time: a few minutes of baseline, then one fault per interval (about 30 minutes).
 */
import { stopWithBenchmark } from './bench-driver.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../core/index.js'
import { createSimulator, isFaultKind, type GroundTruth } from '../sim/index.js'
import { startArgus } from '../test/helpers/argus-process.js'

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: 'cpu_hog,bad_release,slow_database' },
    interval: { type: 'string', default: '8m' },
    baseline: { type: 'string', default: '6m' },
    duration: { type: 'string', default: '5m' },
  },
})
const faultKinds = (values.faults ?? '').split(',').filter(isFaultKind)
const intervalMs = parseDuration(values.interval) ?? 480_000
const baselineMs = parseDuration(values.baseline) ?? 360_000
const durationMs = parseDuration(values.duration) ?? 300_000
const STEP_MS = 15_000 // the simulated cluster's own clock: new counter values every 15 s

for (const binary of ['prometheus', 'prometheus-alertmanager'])
  if (spawnSync(binary, ['--version']).status !== 0) {
    console.error(`${binary} not found: run scripts/install-prometheus-stack.sh first`)
    process.exit(2)
  }

// The simulated cluster, served as one Prometheus target per node.
const sim = createSimulator({ seed: 42, startTs: Date.now(), stepMs: STEP_MS })
const latest = new Map<string, string>()
const step = (): void => {
  for (const scrape of sim.step().scrapes) latest.set(scrape.node, scrape.text)
}
step()
const stepper = setInterval(step, STEP_MS)

interface Received {
  at: number
  alerts: Array<{ status: string; startsAt: string; labels: Record<string, string> }>
}
const received = { argus: [] as Received[], alertmanager: [] as Received[] }
const server = createServer((request, response) => {
  const url = request.url ?? '/'
  if (request.method === 'GET' && url.startsWith('/metrics/')) {
    const text = latest.get(url.slice('/metrics/'.length))
    response.writeHead(text ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' }).end(text ?? '')
    return
  }
  let data = ''
  request.on('data', (chunk: Buffer) => (data += chunk.toString()))
  request.on('end', () => {
    const from = url.startsWith('/argus') ? received.argus : received.alertmanager
    from.push({ at: Date.now(), ...(JSON.parse(data) as Omit<Received, 'at'>) })
    response.writeHead(200).end()
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port
const base = `http://127.0.0.1:${port}`
const nodes = [...latest.keys()]

const dir = mkdtempSync(join(tmpdir(), 'argus-am-compare-'))
const free = async (): Promise<number> => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const found = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  return found
}
const alertmanagerPort = await free()
const prometheusPort = await free()

// Golden-signal rules as a team writes them: fixed thresholds, `for: 1m`.
writeFileSync(
  join(dir, 'rules.yml'),
  `groups:
  - name: golden-signals
    rules:
      - alert: HighErrorRatio
        expr: sum by (namespace, service) (rate(http_requests_total{code=~"5.."}[2m])) / sum by (namespace, service) (rate(http_requests_total[2m])) > 0.05
        for: 1m
        labels: { severity: critical }
      - alert: HighLatency
        expr: histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[2m]))) > 0.5
        for: 1m
        labels: { severity: warning }
      - alert: CPUThrottlingHigh
        expr: sum by (namespace, pod) (rate(container_cpu_cfs_throttled_periods_total[2m])) > 1
        for: 1m
        labels: { severity: warning }
      - alert: MemoryNearLimit
        expr: max by (namespace, pod) (container_memory_working_set_bytes / container_spec_memory_limit_bytes) > 0.9
        for: 1m
        labels: { severity: warning }
`,
)
// Prometheus's defaults: scrape and evaluate every minute (left unset on purpose).
writeFileSync(
  join(dir, 'prometheus.yml'),
  `rule_files: [${JSON.stringify(join(dir, 'rules.yml'))}]
alerting:
  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${alertmanagerPort}'] }] }]
scrape_configs:
  - job_name: sim
    static_configs:
${nodes.map((n) => `      - { targets: ['127.0.0.1:${port}'], labels: { __metrics_path__: /metrics/${n} } }`).join('\n')}
`,
)
// Alertmanager's defaults: group_wait 30 s, group_interval 5 m (left unset on purpose).
const route = (url: string): string => `route:
  receiver: hook
  group_by: [alertname, namespace]
receivers:
  - name: hook
    webhook_configs: [{ url: '${url}' }]
`
writeFileSync(join(dir, 'alertmanager.yml'), route(`${base}/alertmanager`))
// Argus reads the same shape; its webhook receiver sends the same v4 payload.
writeFileSync(
  join(dir, 'argus-alerts.yaml'),
  `route:
  receiver: hook
  group_by: [alertname, namespace]
receivers:
  - name: hook
    webhook: { url: '${base}/argus' }
`,
)

const children: ChildProcess[] = []
const run = (command: string, args: string[]): void => {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let tail = ''
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2_000)))
  child.on('exit', (code) => {
    if (code && code !== 0 && !stopping) console.error(`${command} exited ${code}: ${tail}`)
  })
  children.push(child)
}
let stopping = false
run('prometheus-alertmanager', [
  `--config.file=${join(dir, 'alertmanager.yml')}`,
  `--storage.path=${join(dir, 'am')}`,
  `--web.listen-address=127.0.0.1:${alertmanagerPort}`,
  '--cluster.listen-address=',
])
run('prometheus', [
  `--config.file=${join(dir, 'prometheus.yml')}`,
  `--storage.tsdb.path=${join(dir, 'tsdb')}`,
  `--web.listen-address=127.0.0.1:${prometheusPort}`,
])
const argusDir = join(dir, 'argus')
const argus = await startArgus({
  dataDir: argusDir,
  env: {
    HOME: argusDir,
    KUBECONFIG: '',
    KUBERNETES_SERVICE_HOST: '',
    ARGUS_SIM: 'off',
    ARGUS_PROMETHEUS_TARGETS: nodes.map((n) => `${base}/metrics/${n}`).join(','),
    ARGUS_ALERTS_CONFIG: join(dir, 'argus-alerts.yaml'),
    // A baseline of 20 scrapes (5 min) before scoring; incidents close 3 min after their last anomaly.
    ARGUS_ANALYZER_METRIC_WARMUP_POINTS: '20',
    ARGUS_ANALYZER_INCIDENT_WINDOW_MS: '120000',
    ARGUS_ANALYZER_INCIDENT_QUIET_MS: '180000',
    ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS: '0',
  },
})
stopWithBenchmark(argus, ...children)

const truths: GroundTruth[] = []
const startTs = Date.now()
faultKinds.forEach((kind, i) => {
  truths.push(sim.inject(kind, { startTs: startTs + baselineMs + i * intervalMs, durationMs }))
})
console.log(
  `${faultKinds.length} faults (${faultKinds.join(', ')}), one every ${intervalMs / 60_000} min after ${baselineMs / 60_000} min of baseline; the run takes about ${Math.round((baselineMs + faultKinds.length * intervalMs) / 60_000)} min`,
)

try {
  await new Promise((resolve) => setTimeout(resolve, baselineMs + faultKinds.length * intervalMs))
  const firstAfter = (list: Received[], truth: GroundTruth, until: number): number | undefined =>
    list.find(
      (r) =>
        r.at >= truth.startTs &&
        r.at < until &&
        r.alerts.some((a) => a.status === 'firing' && Date.parse(a.startsAt) >= truth.startTs - 2 * STEP_MS),
    )?.at
  const rows = truths.map((truth, i) => {
    const until = truths[i + 1]?.startTs ?? truth.startTs + intervalMs
    const a = firstAfter(received.argus, truth, until)
    const p = firstAfter(received.alertmanager, truth, until)
    return {
      fault: truth.fault,
      argus: a === undefined ? undefined : a - truth.startTs,
      prometheus: p === undefined ? undefined : p - truth.startTs,
    }
  })
  const show = (ms: number | undefined): string =>
    (ms === undefined ? 'no alert' : `${(ms / 1000).toFixed(0)} s`).padStart(9)
  console.log(`${'fault'.padEnd(16)} ${'Argus'.padStart(9)} ${'Prom+AM'.padStart(9)}  ratio`)
  for (const row of rows)
    console.log(
      `${row.fault.padEnd(16)} ${show(row.argus)} ${show(row.prometheus)}  ${
        row.argus !== undefined && row.prometheus !== undefined
          ? `${(row.prometheus / row.argus).toFixed(1)}x`
          : '-'
      }`,
    )
  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b)
    return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
  }
  const argusTimes = rows.flatMap((r) => (r.argus === undefined ? [] : [r.argus]))
  const promTimes = rows.flatMap((r) => (r.prometheus === undefined ? [] : [r.prometheus]))
  console.log(
    `alerted            Argus ${argusTimes.length} of ${rows.length}, Prometheus + Alertmanager ${promTimes.length} of ${rows.length}`,
  )
  console.log(
    `median             Argus ${(median(argusTimes) / 1000).toFixed(0)} s, Prometheus + Alertmanager ${(median(promTimes) / 1000).toFixed(0)} s, ratio ${(median(promTimes) / median(argusTimes)).toFixed(1)}x`,
  )
} finally {
  stopping = true
  clearInterval(stepper)
  await argus.stop('SIGTERM')
  for (const child of children) child.kill('SIGTERM')
  server.closeAllConnections()
  server.close()
  rmSync(dir, { recursive: true, force: true })
}
