import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encode } from '@msgpack/msgpack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep } from '../../core/index.js'
import { startArgus, type ArgusProcess } from '../helpers/argus-process.js'

// The whole spine on the embedded default, driven as a user drives it: `argus start`, HTTP in, search out.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-spine-'))
const BODY_LIMIT = 1024 * 1024
const env = {
  ARGUS_HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT),
  ARGUS_WRITER_MAX_WAIT_MS: '200',
  ARGUS_CLUSTER: 'spine',
}
const now = Date.now()
let argus: ArgusProcess

/** What fluentd's kubernetes_metadata filter and fluent-bit's kubernetes filter produce. */
function fluentdRecord(i: number, run: string): Record<string, unknown> {
  return {
    log: `${i % 10 === 0 ? 'ERROR' : 'INFO'} ${run} request ${i} handled\n`,
    stream: i % 10 === 0 ? 'stderr' : 'stdout',
    time: new Date(now - 60_000 + i).toISOString(),
    kubernetes: {
      namespace_name: `ns-${i % 4}`,
      pod_name: `cart-7d9f8b6c5d-${String(i % 7).padStart(5, 'x')}`,
      container_name: 'cart',
      host: `node-${i % 3}`,
      labels: { app: 'cart', 'pod-template-hash': '7d9f8b6c5d' },
    },
  }
}

function fluentBitRecord(i: number, run: string): Record<string, unknown> {
  return {
    date: (now - 60_000 + i) / 1000,
    log: `INFO ${run} request ${i} handled`,
    kubernetes: { namespace_name: `ns-${i % 4}`, pod_name: 'web-0' },
  }
}

async function post(
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${argus.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function search(query: Record<string, string>): Promise<{
  status: number
  json: { count: number; logs: Array<Record<string, unknown>>; error?: { message: string } }
}> {
  const response = await fetch(
    `${argus.url}/api/v1/logs?${new URLSearchParams({ from: String(now - 3_600_000), limit: '10000', ...query }).toString()}`,
  )
  return { status: response.status, json: (await response.json()) as never }
}

/** Storage is eventually consistent with intake (bus -> batch writer); poll until the count settles. */
async function countEventually(
  query: Record<string, string>,
  expected: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let count = -1
  while (Date.now() < deadline) {
    count = (await search(query)).json.count
    if (count >= expected) return count
    await sleep(100)
  }
  return count
}

beforeAll(async () => {
  argus = await startArgus({ dataDir, env })
})

afterAll(async () => {
  await argus?.stop('SIGKILL')
  rmSync(dataDir, { recursive: true, force: true })
})

describe('the spine on the embedded default', () => {
  it('serves /healthz within 20 s of start and reports ready', async () => {
    expect(argus.startupMs).toBeLessThan(20_000)
    const ready = await fetch(`${argus.url}/readyz`)
    expect(ready.status).toBe(200)
  })

  it('stores 10,000 fluentd and fluent-bit records and finds them by search', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const records = Array.from({ length: 1000 }, (_, j) => batch * 1000 + j)
      const body =
        batch % 2 === 0
          ? records.map((i) => JSON.stringify(fluentdRecord(i, 'bulk'))).join('\n') // fluentd default: NDJSON
          : JSON.stringify(records.map((i) => fluentBitRecord(i, 'bulk'))) // fluent-bit `format json`
      const response = await post(
        '/ingest/logs',
        body,
        batch % 2 === 0 ? { 'content-type': 'application/x-ndjson' } : { 'user-agent': 'Fluent-Bit' },
      )
      expect(response.status, JSON.stringify(response.json)).toBe(202)
      expect(response.json.accepted).toBe(1000)
    }
    expect(await countEventually({ q: 'bulk request' }, 10_000)).toBe(10_000)
    const errors = await search({ q: 'bulk', level: 'error', namespace: 'ns-0' })
    // ERROR lines are every 10th record of the 5,000 fluentd ones; ns-0 holds every 4th: i % 20 === 0.
    expect(errors.json.count).toBe(250)
    expect(errors.json.logs[0]).toMatchObject({
      cluster: 'spine',
      container: 'cart',
      workloadKind: 'Deployment',
      workloadName: 'cart',
      stream: 'stderr',
    })
  })

  it('accepts gzip bodies and a tag in the path', async () => {
    const body = gzipSync(JSON.stringify([fluentdRecord(1, 'gzipped')]))
    const response = await post('/ingest/logs/kube.var.log', body, { 'content-encoding': 'gzip' })
    expect(response.status).toBe(202)
    expect(await countEventually({ q: 'gzipped' }, 1)).toBe(1)
    const [stored] = (await search({ q: 'gzipped' })).json.logs
    expect((stored?.attributes as Record<string, string>)['fluent.tag']).toBe('kube.var.log')
  })

  it('answers bad input with a clear 4xx and keeps the valid records of the same request', async () => {
    const malformed = await post('/ingest/logs', '[{"log": "half an array"')
    expect(malformed.status).toBe(400)
    expect(JSON.stringify(malformed.json)).toContain('not valid JSON')

    const mixed = [
      JSON.stringify(fluentdRecord(1, 'mixed-good')),
      '{"log": 42}',
      '{"log": "bad time", "time": "not-a-time"}',
      'this is not json',
      JSON.stringify(fluentdRecord(2, 'mixed-good')),
    ].join('\n')
    const partial = await post('/ingest/logs', mixed, { 'content-type': 'application/x-ndjson' })
    expect(partial.status).toBe(400)
    expect(partial.json.accepted).toBe(2)
    expect((partial.json.rejected as Array<{ index: number }>).map((r) => r.index)).toEqual([2, 3, 4])
    // A shipper that resends the same chunk does not store its good records twice.
    const resent = await post('/ingest/logs', mixed, { 'content-type': 'application/x-ndjson' })
    expect(resent.json).toEqual(partial.json)

    // Past the limit once inflated: the server reads the whole (small) body, so the 413 always arrives.
    const bomb = gzipSync(JSON.stringify([{ log: 'x'.repeat(BODY_LIMIT + 10) }]))
    const tooLarge = await post('/ingest/logs', bomb, { 'content-encoding': 'gzip' })
    expect(tooLarge.status).toBe(413)
    expect((tooLarge.json.error as { code: string }).code).toBe('ARGUS_ERR_PAYLOAD_TOO_LARGE')
    // A raw body past the limit is refused before it is read: the client sees the 413, or, when it is
    // still writing as the server closes, a broken pipe. Either way nothing of it is stored.
    const raw = await post(
      '/ingest/logs',
      JSON.stringify([{ log: `oversized ${'x'.repeat(BODY_LIMIT)}` }]),
    ).catch((error: unknown) => ({
      status: 0,
      json: {},
      error: (error as { cause?: { code?: string } }).cause?.code,
    }))
    if (raw.status !== 413) expect(['EPIPE', 'ECONNRESET']).toContain((raw as { error?: string }).error)

    // fluentd out_http with `<format> @type msgpack`: concatenated maps; strings may come as bin.
    const msgpack = await post(
      '/ingest/logs',
      Buffer.concat([
        encode({ log: 'msgpack one', kubernetes: { namespace_name: 'ns-msgpack', pod_name: 'p' } }),
        encode({ message: Buffer.from('msgpack two, a bin string') }),
      ]),
      { 'content-type': 'application/msgpack' },
    )
    expect(msgpack.status).toBe(202)
    expect(msgpack.json).toEqual({ accepted: 2 })
    const brokenMsgpack = await post('/ingest/logs', Buffer.from([0x91, 0x01, 0xc1]), {
      'content-type': 'application/msgpack',
    })
    expect(brokenMsgpack.status).toBe(400)
    expect(JSON.stringify(brokenMsgpack.json)).toContain('not msgpack from here on')

    const unknownParameter = await search({ namespace: 'ns-1', colour: 'blue' })
    expect(unknownParameter.status).toBe(400)
    expect(unknownParameter.json.error?.message).toContain('colour')
    const badLimit = await search({ limit: 'lots' })
    expect(badLimit.status).toBe(400)
    const badTime = await search({ from: 'yesterday' })
    expect(badTime.status).toBe(400)
    expect(badTime.json.error?.message).toContain('from')

    expect(await countEventually({ q: 'mixed-good' }, 2)).toBe(2)
    await sleep(500)
    expect((await search({ q: 'mixed-good' })).json.count).toBe(2)
    expect((await search({ q: 'half an array' })).json.count).toBe(0)
    expect((await search({ q: 'oversized' })).json.count).toBe(0)
  })

  it('flushes on SIGTERM, exits 0, and finds everything again after a restart', async () => {
    // Posted right before the signal: graceful shutdown must drain it into storage.
    const last = await post(
      '/ingest/logs',
      JSON.stringify(Array.from({ length: 500 }, (_, i) => fluentdRecord(i, 'last-words'))),
    )
    expect(last.status).toBe(202)
    expect(await argus.stop('SIGTERM')).toBe(0)

    argus = await startArgus({ dataDir, env })
    expect((await search({ q: 'bulk request' })).json.count).toBe(10_000)
    expect((await search({ q: 'last-words' })).json.count).toBe(500)
  })
})
