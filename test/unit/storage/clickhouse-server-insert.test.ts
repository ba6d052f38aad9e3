import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { openClickHouse } from '../../../storage/clickhouse-client.js'
import { encodeRows } from '../../../storage/encoded-rows.js'
import { encodeRowBinary, rowBinaryLayout } from '../../../storage/row-binary.js'
import { readRowBinary } from '../../helpers/row-binary-reader.js'

/**
 * The ClickHouse server path of insertRows, against a stand-in HTTP endpoint that records what a
 * server would receive (the embedded path runs against real chdb in the integration tests).
 */
interface Received {
  query: string
  settings: Record<string, string>
  body: Buffer
}

let server: Server | undefined
afterEach(async () => {
  server?.close()
  server = undefined
})

async function recordingServer(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
      const params = new URL(request.url ?? '/', 'http://localhost').searchParams
      const settings: Record<string, string> = {}
      for (const [key, value] of params) if (key !== 'query' && key !== 'query_id') settings[key] = value
      received.push({ query: params.get('query') ?? '', settings, body })
      response.writeHead(200, { 'content-type': 'text/plain' }).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

describe('insert into a ClickHouse server', () => {
  it('sends the encoded batches as one JSONCompactEachRow body with the block settings', async () => {
    const { url, received } = await recordingServer()
    const handle = openClickHouse({ url, dataDir: '/nonexistent' })
    try {
      await handle.insertRows({
        table: 'argus.log_intake',
        columns: ['stream_id', 'message'],
        rows: [
          encodeRows([
            ['s1', 'first "quoted"'],
            ['s1', 'second'],
          ]),
          encodeRows([['s2', 'third\nline']]),
        ],
        settings: { insert_deduplication_token: 'tok-1', insert_deduplicate: 1 },
      })
    } finally {
      await handle.release()
    }
    expect(received).toHaveLength(1)
    const [insert] = received as [Received]
    expect(insert.query).toBe('INSERT INTO argus.log_intake (stream_id, message) FORMAT JSONCompactEachRow')
    expect(insert.settings).toMatchObject({ insert_deduplication_token: 'tok-1', insert_deduplicate: '1' })
    // Rows separated by commas within a batch and newlines between: JSON values either way.
    const rows = JSON.parse(`[${insert.body.toString().replaceAll('\n', ',')}]`) as unknown
    expect(rows).toEqual([
      ['s1', 'first "quoted"'],
      ['s1', 'second'],
      ['s2', 'third\nline'],
    ])
  })

  it('sends RowBinary batches back to back as one binary body', async () => {
    const { url, received } = await recordingServer()
    const handle = openClickHouse({ url, dataDir: '/nonexistent' })
    const layout = rowBinaryLayout([
      ['stream_id', 'String'],
      ['ts', 'DateTime64(3)'],
      ['value', 'Float64'],
    ])
    const first = encodeRowBinary(
      [
        ['s1', 1_700_000_000_000, 1.5],
        ['s\u00001', 1_700_000_000_001, -0.25],
      ],
      layout,
    )
    const second = encodeRowBinary([['日本', 1_700_000_000_002, 1e300]], layout)
    try {
      await handle.insertRows({
        table: 'argus.metric_intake',
        columns: layout.columns,
        rows: [first, second],
        settings: { insert_deduplication_token: 'tok-2' },
      })
    } finally {
      await handle.release()
    }
    const [insert] = received as [Received]
    expect(insert.query).toBe('INSERT INTO argus.metric_intake (stream_id, ts, value) FORMAT RowBinary')
    expect(insert.settings).toMatchObject({ insert_deduplication_token: 'tok-2' })
    expect(insert.body.equals(Buffer.concat([first.bytes, second.bytes]))).toBe(true)
    expect(readRowBinary(insert.body, layout.types)).toEqual([
      ['s1', 1_700_000_000_000, 1.5],
      ['s\u00001', 1_700_000_000_001, -0.25],
      ['日本', 1_700_000_000_002, 1e300],
    ])
  })

  it('fails the insert when the server refuses it', async () => {
    const received: string[] = []
    server = createServer((request, response) => {
      received.push(request.url ?? '')
      request.resume()
      request.on('end', () =>
        response
          .writeHead(400, { 'content-type': 'text/plain', 'x-clickhouse-exception-code': '27' })
          .end('Code: 27. DB::Exception: Cannot parse input. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)'),
      )
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const handle = openClickHouse({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      dataDir: '/nonexistent',
    })
    try {
      await expect(
        handle.insertRows({
          table: 'argus.log_intake',
          columns: ['stream_id'],
          rows: [encodeRows([['s1']])],
          settings: {},
        }),
      ).rejects.toThrow(/Cannot parse input/)
    } finally {
      await handle.release()
    }
    expect(received).toHaveLength(1)
  })
})
