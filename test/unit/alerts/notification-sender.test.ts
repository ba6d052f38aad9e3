import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Notification } from '../../../alerts/alert-dispatcher.js'
import { alertFingerprint } from '../../../alerts/alert-fingerprint.js'
import { NotificationSender, type DeliveryRecord } from '../../../alerts/notification-sender.js'

// A local receiver that answers from a script per path, and records what it got.
const received: Array<{ path: string; body: Record<string, unknown> }> = []
const scripts = new Map<string, number[]>()
let server: Server
let base = ''

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    let data = ''
    request.on('data', (chunk: Buffer) => (data += chunk.toString()))
    request.on('end', () => {
      const path = request.url ?? '/'
      received.push({ path, body: JSON.parse(data) as Record<string, unknown> })
      const script = scripts.get(path.split('?')[0] as string) ?? []
      const status = script.length > 0 ? (script.shift() as number) : 200
      if (status === 0) return // never answers: a timeout
      response.writeHead(status).end(status === 200 ? '{"errcode":0}' : 'busy')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const labels = { alertname: 'CheckoutErrors', severity: 'critical' }
const notification: Notification = {
  receiver: 'ops',
  routeId: '0',
  groupKey: '0:{"alertname":"CheckoutErrors"}',
  groupLabels: { alertname: 'CheckoutErrors' },
  status: 'firing',
  firing: [
    {
      ts: 0,
      cluster: 'c1',
      fingerprint: alertFingerprint(labels),
      status: 'firing',
      labels,
      annotations: { summary: 'errors up' },
      startsAt: Date.parse('2026-11-01T00:00:00Z'),
    },
  ],
  resolved: [],
  sequence: 1,
}

function sender(records: DeliveryRecord[]): NotificationSender {
  return new NotificationSender({
    externalUrl: 'https://argus.example',
    record: (r) => void records.push(r),
    retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 },
  })
}

describe('notification sender', () => {
  it('retries 500s and delivers once; a redelivered notification is not posted again', async () => {
    const records: DeliveryRecord[] = []
    scripts.set('/flaky', [500, 503])
    const before = received.length
    const first = await sender(records).send(notification, {
      name: 'ops',
      platform: 'webhook',
      url: `${base}/flaky`,
    })
    expect(first).toMatchObject({ status: 'delivered', attempts: 3, statusCode: 200 })
    expect(received.length - before).toBe(3)
    expect(received.at(-1)?.body).toMatchObject({ version: '4', status: 'firing', receiver: 'ops' })
  })

  it('does not post the same group and sequence twice', async () => {
    const records: DeliveryRecord[] = []
    const once = sender(records)
    const before = received.length
    await once.send(notification, { name: 'ops', platform: 'slack', url: `${base}/slack` })
    const again = await once.send(notification, { name: 'ops', platform: 'slack', url: `${base}/slack` })
    expect(again.status).toBe('duplicate')
    expect(received.length - before).toBe(1)
    expect(records.map((r) => r.status)).toEqual(['delivered', 'duplicate'])
  })

  it('dead-letters at once what the receiver refuses (400), and after the budget what keeps failing or timing out', async () => {
    const records: DeliveryRecord[] = []
    scripts.set('/refuses', [400])
    const refused = await sender(records).send(notification, {
      name: 'ops',
      platform: 'wecom',
      url: `${base}/refuses`,
    })
    expect(refused).toMatchObject({
      status: 'dead_letter',
      attempts: 1,
      statusCode: 400,
      reason: 'ops answered HTTP 400',
    })
    scripts.set('/down', [500, 500, 500, 500])
    const down = await sender(records).send(notification, {
      name: 'ops',
      platform: 'teams',
      url: `${base}/down`,
    })
    expect(down).toMatchObject({ status: 'dead_letter', attempts: 4, statusCode: 500 })
    scripts.set('/silent', [0, 0, 0, 0])
    const silent = await sender(records).send(notification, {
      name: 'ops',
      platform: 'webhook',
      url: `${base}/silent`,
      timeoutMs: 50,
    })
    expect(silent).toMatchObject({ status: 'dead_letter', attempts: 4 })
    expect(silent.reason).toMatch(/abort|timeout/i)
  })

  it('signs DingTalk on the URL and Feishu in the body, and never sends the secret itself', async () => {
    const records: DeliveryRecord[] = []
    const before = received.length
    await sender(records).send(notification, {
      name: 'ding',
      platform: 'dingtalk',
      url: `${base}/robot/send?access_token=t`,
      secret: 'SECsecret',
      language: 'zh',
    })
    await sender(records).send(notification, {
      name: 'lark',
      platform: 'feishu',
      url: `${base}/lark`,
      secret: 'SECsecret',
    })
    const [ding, lark] = received.slice(before)
    expect(ding?.path).toMatch(/^\/robot\/send\?access_token=t&timestamp=\d{13}&sign=[A-Za-z0-9%]+$/)
    expect(ding?.body).toMatchObject({ msgtype: 'markdown' })
    expect(lark?.body).toMatchObject({
      timestamp: expect.stringMatching(/^\d{10}$/),
      sign: expect.any(String),
      msg_type: 'interactive',
    })
    expect(JSON.stringify(received.slice(before))).not.toContain('SECsecret')
    // Verified as each platform's server does, from its documentation (not with our signer):
    // DingTalk: base64(HMAC-SHA256(key = secret, "timestamp\nsecret")), URL-encoded, timestamp in ms
    // within an hour; Feishu: base64(HMAC-SHA256(key = "timestamp\nsecret", empty)), seconds.
    const query = new URL(`http://x${ding?.path ?? ''}`).searchParams
    const dingTs = query.get('timestamp') as string
    expect(Math.abs(Date.now() - Number(dingTs))).toBeLessThan(3_600_000)
    expect(query.get('sign')).toBe(
      createHmac('sha256', 'SECsecret').update(`${dingTs}\nSECsecret`).digest('base64'),
    )
    const larkTs = String(lark?.body.timestamp)
    expect(lark?.body.sign).toBe(createHmac('sha256', `${larkTs}\nSECsecret`).update('').digest('base64'))
  })
})
