import type { EventEmitter } from 'node:events'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import { encode } from '@msgpack/msgpack'
import { createFluentSender, type FluentSender } from 'fluent-logger'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOPICS, sleep, type LogRecord } from '../../core/index.js'
import {
  EventTimeValue,
  FORWARD_CODEC,
  createFluentForwardServer,
  type FluentForwardServer,
  type IntakeResult,
  type RawIntake,
} from '../../ingest/index.js'
import { stillReachable } from '../helpers/collect-garbage.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { quietLogger } from '../helpers/quiet-logger.js'
import { seededRandom } from '../helpers/seeded-random.js'
import { until } from '../helpers/until.js'

// The Forward protocol server with real clients: fluent-logger (the Fluentd project's Node client)
// in its three modes with acks and the shared-key handshake, hand-built Forward mode, and a fuzz of
// broken streams next to a good client.
const harness = intakeHarness()
let logs: LogRecord[] = []
let open: FluentForwardServer
let secured: FluentForwardServer

function newServer(sharedKey?: string): FluentForwardServer {
  return createFluentForwardServer({
    intake: harness.intake,
    logger: quietLogger(),
    metrics: harness.metrics,
    host: '127.0.0.1',
    port: 0,
    ...(sharedKey && { sharedKey, hostname: 'argus-test' }),
  })
}

const kubernetes = (pod: string) => ({
  namespace_name: 'shop',
  pod_name: pod,
  container_name: 'cart',
  host: 'node-1',
  labels: { app: 'cart', 'pod-template-hash': '6d4cf56db6' },
})

/** fluent-logger's typings lack the no-argument end(); it flushes and closes the socket. */
const close = (sender: FluentSender<unknown>): void => (sender as unknown as { end(): void }).end()

/** Sends with fluent-logger and resolves when the server acknowledged (requireAckResponse). */
function emitAll(
  sender: FluentSender<unknown>,
  label: string,
  records: object[],
  time?: number,
): Promise<void> {
  return Promise.all(
    records.map(
      (record) =>
        new Promise<void>((resolve, reject) =>
          sender.emit(label, record, time ?? Date.now(), (error?: Error | null) =>
            error ? reject(error) : resolve(),
          ),
        ),
    ),
  ).then(() => undefined)
}

beforeAll(async () => {
  logs = await harness.collect<LogRecord>(TOPICS.logs)
  open = newServer()
  secured = newServer('s3cret')
  await open.start()
  await secured.start()
})

afterAll(async () => {
  await open?.stop()
  await secured?.stop()
  await harness.stop()
})

describe('Forward protocol server', () => {
  for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward'] as const) {
    it(`takes fluent-logger's ${eventMode} mode with acks, keeping the event time and Kubernetes metadata`, async () => {
      const sender = createFluentSender('kube', {
        host: '127.0.0.1',
        port: open.port,
        eventMode,
        requireAckResponse: true,
        ackResponseTimeout: 5_000,
        flushInterval: 10,
      })
      const marker = `mode-${eventMode}`
      const eventTime = Date.parse('2026-11-24T10:00:00Z')
      await emitAll(
        sender,
        'var.log.containers',
        Array.from({ length: 20 }, (_, i) => ({
          log: `ERROR ${marker} ${i} payment declined\n`,
          stream: 'stderr',
          kubernetes: kubernetes('cart-6d4cf56db6-x7k2p'),
        })),
        Math.floor(eventTime / 1000),
      )
      close(sender)
      const ours = await until(() => {
        const found = logs.filter((l) => l.message.includes(marker))
        return found.length === 20 ? found : undefined
      }, `20 ${eventMode} records`)
      expect(ours[0]).toMatchObject({
        cluster: 'c1',
        ts: eventTime,
        namespace: 'shop',
        pod: 'cart-6d4cf56db6-x7k2p',
        container: 'cart',
        node: 'node-1',
        workload: { kind: 'Deployment', name: 'cart' },
        level: 'error',
        stream: 'stderr',
        source: 'fluent-forward',
        attributes: { 'fluent.tag': 'kube.var.log.containers' },
      })
    })
  }

  for (const packed of [false, true])
    it(`keeps no entry of a ${packed ? 'PackedForward' : 'Forward'} message while the intake publishes it, then acks`, async () => {
      const refs: Array<WeakRef<object>> = []
      let publish: (result: IntakeResult) => void = () => undefined
      const intake = {
        fluentRecords(records: readonly unknown[]) {
          for (const record of records) refs.push(new WeakRef(record as object))
          return new Promise<IntakeResult>((resolve) => (publish = resolve))
        },
      } as unknown as RawIntake
      const server = createFluentForwardServer({
        intake,
        logger: quietLogger(),
        metrics: harness.metrics,
        host: '127.0.0.1',
        port: 0,
      })
      await server.start()
      const socket = connect(server.port, '127.0.0.1')
      try {
        const ack = new Promise<Buffer>((resolve) => socket.once('data', resolve))
        const time = Math.floor(Date.now() / 1000)
        const entries = Array.from({ length: 50 }, (_, i) => [
          time,
          { log: `line ${i}`, kubernetes: kubernetes('cart-1') },
        ])
        const events = packed ? Buffer.concat(entries.map((entry) => encode(entry))) : entries
        socket.write(encode(['kube.cart', events, { chunk: 'held-1' }]))
        await until(() => (refs.length === 50 ? true : undefined), 'the intake called')
        // Had the server kept the message (or its entries) while the publish waited, they would be reachable.
        expect(await stillReachable(refs)).toBe(0)
        publish({ accepted: 50, rejected: [] })
        expect((await ack).equals(Buffer.from(encode({ ack: 'held-1' })))).toBe(true)
      } finally {
        socket.destroy()
        await server.stop()
      }
    })

  it('takes Forward mode with EventTime (nanosecond) timestamps, and acks the chunk', async () => {
    const socket = connect(open.port, '127.0.0.1')
    const ack = new Promise<unknown>((resolve) => socket.once('data', (data) => resolve(data)))
    const time = new EventTimeValue(Date.parse('2026-11-24T11:00:00.123Z'))
    socket.write(
      encode(
        [
          'app.cart',
          [
            [time, { message: 'forward-mode one' }],
            [time, { message: 'forward-mode two' }],
          ],
          { chunk: 'c-1' },
        ],
        { extensionCodec: FORWARD_CODEC },
      ),
    )
    const answer = (await ack) as Buffer
    expect(answer.equals(Buffer.from(encode({ ack: 'c-1' })))).toBe(true)
    const two = await until(() => {
      const found = logs.filter((l) => l.message.startsWith('forward-mode'))
      return found.length === 2 ? found : undefined
    }, 'Forward mode records')
    expect(two.map((l) => l.ts)).toEqual([time.ms, time.ms])
    socket.destroy()
  })

  it('checks the shared key: the right one is let in, a wrong one is refused and counted', async () => {
    const good = createFluentSender('secure', {
      host: '127.0.0.1',
      port: secured.port,
      requireAckResponse: true,
      security: { clientHostname: 'fluent-bit-node-1', sharedKey: 's3cret' },
    })
    await emitAll(good, 'app', [{ message: 'with the right key' }])
    close(good)
    await until(() => logs.find((l) => l.message === 'with the right key'), 'the authenticated record')

    const before = await harness.metricTotal(/^argus_forward_dropped_connections_total\{reason="handshake"\}/)
    const bad = createFluentSender('secure', {
      host: '127.0.0.1',
      port: secured.port,
      requireAckResponse: true,
      ackResponseTimeout: 1_000,
      reconnectInterval: 60_000,
      security: { clientHostname: 'intruder', sharedKey: 'guess' },
    })
    const refused = new Promise<Error>((resolve) =>
      (bad as unknown as EventEmitter).on('error', (error: Error) => resolve(error)),
    )
    bad.emit('app', { message: 'with a wrong key' })
    expect((await refused).message).toMatch(/Authentication failed|shared key|Sharedkey|timeout/i)
    close(bad)
    const deadline = Date.now() + 5_000
    while (
      (await harness.metricTotal(/^argus_forward_dropped_connections_total\{reason="handshake"\}/)) === before
    )
      if (Date.now() > deadline) break
      else await sleep(20)
    expect(await harness.metricTotal(/^argus_forward_dropped_connections_total\{reason="handshake"\}/)).toBe(
      before + 1,
    )
    expect(logs.some((l) => l.message === 'with a wrong key')).toBe(false)
  })

  it('survives 10,000 malformed and truncated streams, counting them, while a good client goes on', async () => {
    const payloads = brokenPayloads(10_000)
    const before = await droppedTotal()
    const good = createFluentSender('steady', {
      host: '127.0.0.1',
      port: open.port,
      requireAckResponse: true,
      eventMode: 'PackedForward',
      flushInterval: 5,
    })
    const goodRecords = Array.from({ length: 200 }, (_, i) => ({ message: `steady ${i}` }))
    const steady = emitAll(good, 'app', goodRecords)
    let next = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < payloads.length) await sendAndClose(open.port, payloads[next++] as Buffer)
      }),
    )
    await steady
    close(good)
    await until(
      () => (logs.filter((l) => l.message.startsWith('steady ')).length === 200 ? true : undefined),
      'all good records',
    )
    // Every broken stream is counted (reasons: protocol, malformed, truncated); nothing is half-taken.
    expect((await droppedTotal()) - before).toBe(payloads.length)
    // Still serving after the storm.
    const after = createFluentSender('after', {
      host: '127.0.0.1',
      port: open.port,
      requireAckResponse: true,
    })
    await emitAll(after, 'app', [{ message: 'after the storm' }])
    close(after)
  }, 120_000)
})

const droppedTotal = (): Promise<number> => harness.metricTotal(/^argus_forward_dropped_connections_total\{/)

/** Writes a payload, ends the connection, and waits until the server closed its side. */
function sendAndClose(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(payload))
    socket.on('data', () => undefined)
    socket.on('error', () => resolve())
    socket.on('close', () => resolve())
  })
}

/** Deterministic garbage: random bytes, truncated valid messages, wrong shapes, gzip that is not. */
function brokenPayloads(count: number): Buffer[] {
  const { next: random, bytes } = seededRandom(7)
  const valid = Buffer.from(
    encode(['app', [[1_700_000_000, { message: 'x'.repeat(40) }]], { chunk: 'abc' }], {
      extensionCodec: FORWARD_CODEC,
    }),
  )
  const shapes: Array<() => Buffer> = [
    () => bytes(1 + Math.floor(random() * 64)),
    () => valid.subarray(0, 1 + Math.floor(random() * (valid.length - 1))),
    () => Buffer.from(encode(['app'])),
    () => Buffer.from(encode([42, 1_700_000_000, { message: 'tag is a number' }])),
    () => Buffer.from(encode(['app', 'not-time', { message: 'x' }, { chunk: 1 }])),
    () => Buffer.from(encode(['app', Buffer.from('not msgpack entries \xc1'), { compressed: 'gzip' }])),
    () => Buffer.from(encode(['app', gzipSync(Buffer.from([0xc1, 0xc1])), { compressed: 'gzip' }])),
    () => Buffer.from(encode(['app', [[1_700_000_000]], null])),
    () => Buffer.from(encode({ not: 'an array' })),
    () => Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32 claiming 4 billion items
  ]
  return Array.from({ length: count }, (_, i) => (shapes[i % shapes.length] as () => Buffer)())
}
