import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  FAST_FIRST_FAULT,
  simulatedClusterEnv,
  startArgus,
  type ArgusProcess,
} from '../helpers/argus-process.js'
import { until } from '../helpers/until.js'

// The whole loop on the running service: the first demo fault becomes an incident, and the
// incident, with its root cause, reaches a chat webhook (here: an Alertmanager-format receiver).
const dataDir = mkdtempSync(join(tmpdir(), 'argus-alerts-'))
let argus: ArgusProcess | undefined
let server: Server | undefined
// The hog is one pod; the ranking may name it or, when the service as a whole shows it, its Deployment.
const NAMES_RECOMMENDATION = /(^|\n)(Pod|Deployment)\/recommendation/
const received: Array<{ at: number; body: Record<string, unknown> }> = []

afterAll(async () => {
  await argus?.stop('SIGTERM')
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  rmSync(dataDir, { recursive: true, force: true })
})

describe('alerts to chat', () => {
  it('sends the incident a fault opened, with its root cause, to the configured webhook', async () => {
    server = createServer((request, response) => {
      let data = ''
      request.on('data', (chunk: Buffer) => (data += chunk.toString()))
      request.on('end', () => {
        received.push({ at: Date.now(), body: JSON.parse(data) as Record<string, unknown> })
        response.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const configFile = join(dataDir, 'alerts.yaml')
    writeFileSync(
      configFile,
      [
        'route:',
        '  receiver: ops',
        '  group_by: [alertname, namespace]',
        '  group_wait: 1s',
        '  group_interval: 2s',
        'receivers:',
        '  - name: ops',
        `    webhook: { url: 'http://127.0.0.1:${port}/alertmanager' }`,
      ].join('\n'),
    )
    argus = await startArgus({
      dataDir,
      env: simulatedClusterEnv(dataDir, {
        ...FAST_FIRST_FAULT,
        ARGUS_ALERTS_CONFIG: configFile,
        ARGUS_EXTERNAL_URL: 'https://argus.example',
      }),
    })
    type Payload = {
      version: string
      status: string
      alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>
    }
    const message = await until(
      () =>
        received
          .map((r) => ({ ...r, payload: r.body as unknown as Payload }))
          .find((r) =>
            r.payload.alerts.some((a) => NAMES_RECOMMENDATION.test(a.annotations.rootCauses ?? '')),
          ),
      () =>
        `a webhook message naming recommendation among the root causes; received: ${JSON.stringify(
          received.map((r) => (r.body as unknown as Payload).alerts.map((a) => a.annotations.rootCauses)),
        )}`,
      90_000,
      200,
    )
    expect(message.payload).toMatchObject({ version: '4', status: 'firing' })
    const alert = message.payload.alerts.find((a) =>
      NAMES_RECOMMENDATION.test(a.annotations.rootCauses ?? ''),
    )
    expect(alert?.labels).toMatchObject({ alertname: 'ArgusIncident', cluster: 'default' })
    expect(alert?.annotations.incidentUrl).toMatch(
      /^https:\/\/argus\.example\/api\/v1\/incidents\/inc-[0-9a-f]{16}$/,
    )
    // Fault onset to webhook, as the demo logs the onset: within seconds (group_wait is 1 s here).
    const injected = argus.logs.find((line) => line.includes('demo: injecting cpu_hog'))
    const onset = Number(JSON.parse(injected as string).startTs)
    expect(message.at - onset).toBeLessThan(15_000)
    const metrics = await (await fetch(`${argus.url}/metrics`)).text()
    expect(metrics).toMatch(/argus_alert_deliveries_total\{receiver="ops",status="delivered"\} [1-9]/)

    // The delivery log and the alert's state are stored and served.
    const incidentId = alert?.labels.incident as string
    const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
      const response = await fetch(`${argus?.url}${path}`, init)
      return { status: response.status, body: (await response.json()) as T }
    }
    type Deliveries = { deliveries: Array<{ status: string; receiver: string; attempts: number }> }
    const logged = await until(async () => {
      const { body } = await api<Deliveries>(`/api/v1/alerts/deliveries?incident=${incidentId}`)
      return body.deliveries.find((d) => d.status === 'delivered')
    }, 'the delivery in the delivery log')
    expect(logged).toMatchObject({ receiver: 'ops', attempts: 1 })
    const alerts = await api<{ alerts: Array<{ incidentId?: string; status: string }> }>('/api/v1/alerts')
    expect(alerts.body.alerts.map((a) => a.incidentId)).toContain(incidentId)

    // Silences: refused with a reason when they cannot be meant; made, listed and expired otherwise.
    const post = (body: unknown) =>
      api<{ id: string; endsAt: number; error?: { message: string } }>('/api/v1/silences', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const who = { createdBy: 'ops@example.com', comment: 'maintenance OPS-42' }
    const noEnd = await post({ matchers: ['namespace="shop"'], ...who })
    expect(noEnd.status).toBe(400)
    expect(noEnd.body.error?.message).toMatch(/endsAt or a duration/)
    const everything = await post({ matchers: ['namespace=~".*"'], duration: '1h', ...who })
    expect(everything.status).toBe(400)
    expect(everything.body.error?.message).toMatch(/mute everything/)
    const made = await post({ matchers: ['namespace="shop"', 'severity="warning"'], duration: '2h', ...who })
    expect(made.status).toBe(201)
    const listed = await api<{ silences: Array<{ id: string }> }>('/api/v1/silences')
    expect(listed.body.silences.map((s) => s.id)).toContain(made.body.id)
    const expired = await api<{ endsAt: number }>(`/api/v1/silences/${made.body.id}`, { method: 'DELETE' })
    expect(expired.status).toBe(200)
    expect(expired.body.endsAt).toBeLessThanOrEqual(Date.now())
    expect((await api('/api/v1/silences/no-such-silence', { method: 'DELETE' })).status).toBe(404)
  })
})
