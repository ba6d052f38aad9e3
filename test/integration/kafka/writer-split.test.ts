import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { sleep } from '../../../core/index.js'
import { fluentdBody, postLogs } from '../../helpers/fluentd-logs.js'
import { argusRoles, type ArgusProcess } from '../../helpers/argus-process.js'
import { storedLogMessages } from '../../helpers/stored-logs.js'

// Two writer processes in one consumer group, each with its own storage so each one's share shows.
const processes = argusRoles({
  prefix: 'argus-writer-split-',
  env: {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    KAFKA_PARTITIONS: '4',
    ARGUS_SIM: 'off',
    ARGUS_WRITER_MAX_WAIT_MS: '100',
    // A group of this test's own, so members left on the shared broker by other tests play no part.
    ARGUS_WRITER_GROUP: `writer-split-${randomUUID().slice(0, 8)}`,
  },
})
const start = processes.start
const LOG_TOPIC = 'argus.signals.logs'

afterAll(() => processes.stopAll())

/** The log partitions the process's latest group assignment gave it, from its own log line. */
function logPartitions(argus: ArgusProcess): number[] | undefined {
  const assignments = argus.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('kafka consumer group assignment'))
    .map((line) => JSON.parse(line) as { assigned: string[] })
  const latest = assignments[assignments.length - 1]
  if (!latest) return undefined
  const entry = latest.assigned.find((a) => a.startsWith(`${LOG_TOPIC}:`))
  return entry
    ? entry
        .slice(LOG_TOPIC.length + 1)
        .split(',')
        .filter(Boolean)
        .map(Number)
    : []
}

async function post(collector: ArgusProcess, text: string, count: number): Promise<void> {
  const now = Date.now()
  // Many workloads, so the keys spread over every partition.
  const body = fluentdBody(count, (i) => ({
    message: `${text} ${i}`,
    time: now + i,
    namespace: `ns-${i % 5}`,
    pod: `svc-${i % 23}-7d9f8c6b5-x${i % 3}`,
  }))
  const response = await postLogs(collector.url, body)
  expect(response.status).toBe(202)
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(500)
  }
}

describe('two writer processes in one group', () => {
  it('split the partitions between them, and the one left takes all of them when the other stops', async () => {
    const collector = await start('collector', 'collector')
    const [first, second] = [await start('writer,api', 'writer-a'), await start('writer,api', 'writer-b')]
    if (!first || !second) throw new Error('writers did not start')
    // Both hold a share once the group has rebalanced with two members.
    await until(
      () =>
        (logPartitions(first)?.length ?? 0) + (logPartitions(second)?.length ?? 0) === 4 &&
        (logPartitions(first)?.length ?? 0) > 0 &&
        (logPartitions(second)?.length ?? 0) > 0,
      60_000,
    )
    const shares = [logPartitions(first) ?? [], logPartitions(second) ?? []]
    expect(new Set([...shares[0]!, ...shares[1]!]).size).toBe(4)

    await post(collector, 'split-before', 2000)
    const both = async (): Promise<string[][]> =>
      Promise.all([
        storedLogMessages(first.url, 'split-before'),
        storedLogMessages(second.url, 'split-before'),
      ])
    await until(async () => (await both()).flat().length >= 2000, 60_000)
    const [inFirst, inSecond] = await both()
    expect(inFirst!.length).toBeGreaterThan(0)
    expect(inSecond!.length).toBeGreaterThan(0)
    expect(new Set([...inFirst!, ...inSecond!]).size).toBe(2000)
    expect(inFirst!.length + inSecond!.length).toBe(2000)

    // A graceful stop leaves the group at once: the survivor is reassigned without waiting for a session timeout.
    expect(await second.stop('SIGTERM')).toBe(0)
    await until(() => logPartitions(first)?.length === 4, 30_000)
    await post(collector, 'split-after', 1000)
    await until(async () => (await storedLogMessages(first.url, 'split-after')).length >= 1000, 60_000)
    await sleep(1000)
    expect(new Set(await storedLogMessages(first.url, 'split-after')).size).toBe(1000)
    expect((await storedLogMessages(first.url, 'split-after')).length).toBe(1000)
  })
})
