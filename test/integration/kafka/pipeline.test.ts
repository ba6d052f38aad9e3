import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { fluentdBody, postLogs } from '../../helpers/fluentd-logs.js'
import { startArgus, type ArgusProcess } from '../../helpers/argus-process.js'

// argus start with KAFKA_BROKERS: the same pipeline with Kafka between intake and the writer.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-kafka-pipeline-'))
let argus: ArgusProcess

beforeAll(async () => {
  argus = await startArgus({
    dataDir,
    env: {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_PARTITIONS: '4',
      ARGUS_SIM: 'off',
      ARGUS_WRITER_MAX_WAIT_MS: '200',
    },
  })
})

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

async function storedCount(text: string): Promise<number> {
  const response = await fetch(`${argus.url}/api/v1/logs?from=-1h&limit=10000&q=${encodeURIComponent(text)}`)
  return ((await response.json()) as { count: number }).count
}

describe('pipeline on Kafka', () => {
  it('says it runs on Kafka, and records posted to ingest reach storage through it exactly once', async () => {
    expect(argus.logs.join('\n')).toContain(`Kafka at ${inject('kafkaBrokers')}`)
    const now = Date.now()
    for (let batch = 0; batch < 10; batch++) {
      const body = fluentdBody(500, (i) => ({
        message: `kafka-e2e record ${batch * 500 + i}`,
        time: now - 1000 + i,
        namespace: `ns-${i % 5}`,
        pod: `api-${i % 7}`,
      }))
      const response = await postLogs(argus.url, body)
      expect(response.status).toBe(202)
    }
    const deadline = Date.now() + 60_000
    let count = 0
    while (Date.now() < deadline && (count = await storedCount('kafka-e2e record')) < 5000) await sleep(200)
    expect(count).toBe(5000)
    await sleep(1000)
    expect(await storedCount('kafka-e2e record')).toBe(5000)
  })
})
