import { afterAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { fluentdBody, postLogs } from '../../helpers/fluentd-logs.js'
import { argusRoles, type ArgusProcess } from '../../helpers/argus-process.js'
import { storedLogMessages } from '../../helpers/stored-logs.js'

// Roles in separate processes joined by Kafka; the writer is killed mid-stream and replaced.
const processes = argusRoles({
  prefix: 'argus-writer-crash-',
  env: {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    KAFKA_PARTITIONS: '4',
    ARGUS_SIM: 'off',
    ARGUS_WRITER_MAX_WAIT_MS: '100',
    ARGUS_WRITER_MAX_BATCH_ROWS: '300',
  },
})
const start = processes.start

afterAll(() => processes.stopAll())

/**
 * This test's rows. The topics are shared with the other Kafka tests and this writer group starts
 * from the beginning, so its storage also holds their records: count only ours.
 */
async function storedRows(api: ArgusProcess): Promise<number> {
  return (await storedLogMessages(api.url, 'crash-run record')).length
}

describe('a writer process killed mid-stream', () => {
  it('loses nothing and duplicates nothing once another writer takes over', async () => {
    const collector = await start('collector', 'collector')
    expect(collector.logs.join('\n')).toContain('roles: collector')
    // The replacement writer starts on the dead one's storage.
    const storageDir = 'storage'
    const firstWriter = await start('writer,api', storageDir)

    const batches = 40
    // 8,000 records: below the API's 10,000-row limit, so a duplicate would show in the count.
    const perBatch = 200
    const now = Date.now()
    for (let b = 0; b < batches; b++) {
      const body = fluentdBody(perBatch, (i) => ({
        message: `crash-run record ${b * perBatch + i}`,
        time: now + b * perBatch + i,
        namespace: `ns-${i % 4}`,
        pod: `api-${i % 9}`,
      }))
      const response = await postLogs(collector.url, body)
      expect(response.status).toBe(202)
      if (b === 15) expect(await firstWriter.stop('SIGKILL')).toBe(null)
      await sleep(30)
    }

    const secondWriter = await start('writer,api', storageDir)
    // The dead writer keeps its partitions until its session times out (30 s); then the new one resumes.
    const deadline = Date.now() + 150_000
    let rows = 0
    while (Date.now() < deadline && (rows = await storedRows(secondWriter)) < batches * perBatch)
      await sleep(1000)
    await sleep(2000) // a late duplicate would show up now
    expect(await storedRows(secondWriter)).toBe(batches * perBatch)
    // On a stall, the replacement's own account (group assignment, handler errors) is the evidence.
    expect(rows, secondWriter.logs.slice(-40).join('\n')).toBe(batches * perBatch)
    expect(new Set(await storedLogMessages(secondWriter.url, 'crash-run record')).size).toBe(
      batches * perBatch,
    )
  })
})
