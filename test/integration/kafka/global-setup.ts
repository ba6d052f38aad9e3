import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

/** A fresh single-node KRaft broker from scripts/ for the Kafka tests, on its own port and state dir. */
const env = {
  ...process.env,
  KAFKA_STATE_DIR: join(tmpdir(), 'argus-kafka-tests'),
  KAFKA_PORT: '19192',
  KAFKA_CONTROLLER_PORT: '19193',
  KAFKA_FRESH: '1',
}

export function setup(project: TestProject): () => void {
  const brokers = execFileSync('bash', ['scripts/kafka-start.sh'], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
  project.provide('kafkaBrokers', brokers)
  project.provide('kafkaStateDir', env.KAFKA_STATE_DIR)
  return () => {
    execFileSync('bash', ['scripts/kafka-stop.sh'], { env, stdio: 'inherit' })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string
    kafkaStateDir: string
  }
}
