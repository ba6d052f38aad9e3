import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { fluentdBody, postLogs } from '../../helpers/fluentd-logs.js'
import { startArgus, type ArgusProcess } from '../../helpers/argus-process.js'
import { storedLogMessages } from '../../helpers/stored-logs.js'
import { startTestBroker, type TestBroker } from '../../helpers/kafka-broker.js'

// The broker is SIGKILLed mid-stream and restarted. The client behaves like fluent-bit: it resends a
// chunk until it gets a 2xx. Every record must be stored exactly once.
const root = mkdtempSync(join(tmpdir(), 'argus-broker-crash-'))
let broker: TestBroker
let argus: ArgusProcess

beforeAll(async () => {
  broker = await startTestBroker({ stateDir: join(root, 'kafka'), port: 19292, controllerPort: 19293 })
  argus = await startArgus({
    dataDir: join(root, 'argus'),
    env: {
      KAFKA_BROKERS: broker.brokers,
      KAFKA_PARTITIONS: '4',
      ARGUS_SIM: 'off',
      ARGUS_WRITER_MAX_WAIT_MS: '100',
      ARGUS_WRITER_MAX_BATCH_ROWS: '300',
      ARGUS_HTTP_PUBLISH_TIMEOUT_MS: '2000',
    },
  })
})

afterAll(async () => {
  await argus?.stop('SIGKILL')
  await broker?.stop()
  rmSync(root, { recursive: true, force: true })
})

describe('the broker killed mid-stream and restarted', () => {
  it('stores every record exactly once while the client resends what was refused', async () => {
    const batches = 30
    const perBatch = 200
    const now = Date.now()
    const statuses = new Map<number, number>()
    let restarted: Promise<void> | undefined
    for (let b = 0; b < batches; b++) {
      const body = fluentdBody(perBatch, (i) => ({
        message: `broker-crash record ${b * perBatch + i}`,
        time: now + b * perBatch + i,
        namespace: `ns-${i % 4}`,
        pod: `api-${i % 9}`,
      }))
      for (let attempt = 1; ; attempt++) {
        const response = await postLogs(argus.url, body)
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        if (response.status === 202) break
        expect(response.status, await response.text()).toBe(503)
        expect(attempt).toBeLessThan(60)
        await sleep(500)
      }
      if (b === 10) {
        broker.kill()
        // Down for a few seconds, while the client keeps sending.
        restarted = sleep(4_000).then(() => broker.restart())
      }
    }
    await restarted
    // The outage was seen by the client (refusals it had to resend), not hidden by luck of timing.
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0)

    const expected = batches * perBatch
    const deadline = Date.now() + 120_000
    let messages: string[] = []
    while (
      Date.now() < deadline &&
      (messages = await storedLogMessages(argus.url, 'broker-crash record')).length < expected
    )
      await sleep(1000)
    await sleep(2000) // a late duplicate would show up now
    messages = await storedLogMessages(argus.url, 'broker-crash record')
    expect(new Set(messages).size, argus.logs.slice(-30).join('\n')).toBe(expected)
    expect(messages.length).toBe(expected)
  })
})
