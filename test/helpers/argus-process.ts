import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface ArgusProcess {
  url: string
  /** The Forward protocol port it listens on (collector role). */
  forwardPort: number | undefined
  child: ChildProcess
  /** Milliseconds from spawn until the API answered. */
  startupMs: number
  logs: string[]
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Runs `argus start` as a user would (bin/argus.js), on a free port, and waits for `/healthz`. */
export async function startArgus(options: {
  dataDir: string
  env?: Record<string, string>
  timeoutMs?: number
}): Promise<ArgusProcess> {
  const started = Date.now()
  const child = spawn(
    process.execPath,
    // The young-generation size bin/argus.js's shebang sets (benchmarks measure what users run).
    ['--max-semi-space-size=64', 'bin/argus.js', 'start', '--port', '0', '--data-dir', options.dataDir],
    {
      // Any free Forward port, so test processes do not contend for fluentd's 24224.
      env: { ...process.env, ARGUS_LOG_LEVEL: 'info', ARGUS_FORWARD_PORT: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const logs: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
  let forwardPort: number | undefined
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`argus did not start in time:\n${logs.join('')}`)),
      options.timeoutMs ?? 60_000,
    )
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`argus exited with ${code} before starting:\n${logs.join('')}`))
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line)
      const parsed = JSON.parse(line) as { url?: string; forwardPort?: number }
      if (parsed.url) {
        forwardPort = parsed.forwardPort
        clearTimeout(timer)
        resolve(parsed.url)
      }
    })
  })
  const health = await fetch(`${url}/healthz`)
  if (!health.ok) throw new Error(`healthz answered ${health.status}`)
  return {
    url,
    forwardPort,
    child,
    startupMs: Date.now() - started,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      // Already gone (exited, or killed by a signal): its exit event has fired.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit') as Promise<[number | null]>
      child.kill(signal)
      const [code] = await exited
      return code
    },
  }
}

/**
 * Role processes sharing one environment (a test's Kafka and settings), each with its data dir
 * under one temporary root; `stopAll` kills them and removes the root.
 */
export function argusRoles(options: { prefix: string; env: Record<string, string> }): {
  start: (roles: string, name: string) => Promise<ArgusProcess>
  stopAll: () => Promise<void>
} {
  const root = mkdtempSync(join(tmpdir(), options.prefix))
  const started: ArgusProcess[] = []
  return {
    async start(roles, name) {
      const argus = await startArgus({
        dataDir: join(root, name),
        env: { ...options.env, ARGUS_ROLES: roles },
      })
      started.push(argus)
      return argus
    },
    async stopAll() {
      for (const argus of started) await argus.stop('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/**
 * Environment for `argus start` on its simulated cluster: no kubeconfig anywhere (HOME is the data
 * folder), the demo on, and the given settings on top.
 */
export function simulatedClusterEnv(
  dataDir: string,
  settings: Record<string, string>,
): Record<string, string> {
  return { HOME: dataDir, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', ARGUS_SIM: 'auto', ...settings }
}

/**
 * The simulated cluster in fast time: five steps a second, 150 points of baseline before the first
 * fault (cpu_hog) at 30 s, and incident windows scaled to match (seconds, not the default minutes).
 */
export const FAST_FIRST_FAULT: Readonly<Record<string, string>> = {
  ARGUS_SIM_STEP_MS: '200',
  ARGUS_SIM_FAULT_INTERVAL_MS: '30000',
  ARGUS_SIM_FAULT_DURATION_MS: '8000',
  ARGUS_ANALYZER_METRIC_WARMUP_POINTS: '30',
  ARGUS_ANALYZER_INCIDENT_WINDOW_MS: '5000',
  ARGUS_ANALYZER_INCIDENT_QUIET_MS: '10000',
  ARGUS_ANALYZER_MODEL_RETRAIN_INTERVAL_MS: '0',
}
