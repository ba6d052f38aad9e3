import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestBroker {
  brokers: string
  /** SIGKILL, as a crash would: no controlled shutdown, no final flush. */
  kill(): void
  /** Starts it again on the same state, which keeps the log. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** A broker of its own from scripts/kafka-start.sh, for tests that crash it. */
export async function startTestBroker(options: {
  stateDir: string
  port: number
  controllerPort: number
}): Promise<TestBroker> {
  const env = {
    ...process.env,
    KAFKA_STATE_DIR: options.stateDir,
    KAFKA_PORT: String(options.port),
    KAFKA_CONTROLLER_PORT: String(options.controllerPort),
  }
  const start = async (fresh: boolean): Promise<string> =>
    (
      await run('bash', ['scripts/kafka-start.sh'], { env: { ...env, KAFKA_FRESH: fresh ? '1' : '0' } })
    ).stdout.trim()
  const brokers = await start(true)
  return {
    brokers,
    kill() {
      process.kill(Number(readFileSync(`${options.stateDir}/broker.pid`, 'utf8').trim()), 'SIGKILL')
    },
    async restart() {
      await start(false)
    },
    async stop() {
      await run('bash', ['scripts/kafka-stop.sh'], { env })
    },
  }
}
