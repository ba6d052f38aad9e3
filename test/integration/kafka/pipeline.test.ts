import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compressSync } from 'snappy'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { REMOTE_WRITE_PROTO } from '../../../ingest/index.js'
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

async function storedMetrics(): Promise<number> {
  const response = await fetch(`${argus.url}/api/v1/signals/counts?from=-2h`)
  return ((await response.json()) as { counts: { metrics: number } }).counts.metrics
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

  it('carries remote_write samples as column batches through Kafka into storage, exactly once', async () => {
    const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')
    const start = Date.now() - 30 * 60_000
    const before = await storedMetrics()
    // 20 requests of 50 series (5 workloads) x 10 samples: 10,000 samples.
    for (let request = 0; request < 20; request++) {
      const timeseries = Array.from({ length: 50 }, (_, s) => ({
        labels: [
          { name: '__name__', value: 'http_requests_total' },
          { name: 'namespace', value: 'kafka-rw' },
          { name: 'pod', value: `svc${s % 5}-6d4cf56db6-p${s}` },
          { name: 'code', value: String(200 + (s % 3)) },
        ],
        samples: Array.from({ length: 10 }, (_, i) => ({
          value: request * 10 + i,
          timestamp: start + (request * 10 + i) * 1000,
        })),
      }))
      const body = compressSync(
        Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish()),
      )
      const response = await fetch(`${argus.url}/api/v1/write`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
      })
      expect(response.status).toBe(204)
    }
    const deadline = Date.now() + 60_000
    let count = 0
    while (Date.now() < deadline && (count = (await storedMetrics()) - before) < 10_000) await sleep(200)
    expect(count).toBe(10_000)
    await sleep(1000)
    expect((await storedMetrics()) - before).toBe(10_000)
    const metrics = await (await fetch(`${argus.url}/metrics`)).text()
    expect(metrics).not.toMatch(
      /argus_bus_dead_lettered_messages_total\{topic="argus\.signals\.metric-batches"[^}]*\} [1-9]/,
    )
  })
})
