import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { TOPICS, sleep, type ExternalAlert } from '../../core/index.js'
import { alertmanagerSource } from '../../ingest/index.js'
import { startArgus, type ArgusProcess } from '../helpers/argus-process.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { seededRandom } from '../helpers/seeded-random.js'

// Alertmanager's webhook (version 4) as Alertmanager sends it: alerts become stored signals,
// placed in the cluster by their labels; broken payloads get a 400 and are counted.
const dir = mkdtempSync(join(tmpdir(), 'argus-alertmanager-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

const startsAt = new Date(Date.now() - 120_000).toISOString()
const payload = {
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="KubePodCrashLooping"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'argus',
  groupLabels: { alertname: 'KubePodCrashLooping' },
  commonLabels: { alertname: 'KubePodCrashLooping', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'KubePodCrashLooping',
        severity: 'critical',
        namespace: 'shop',
        pod: 'catalog-6d4cf56db6-x7k2p',
        container: 'catalog',
        job: 'kube-state-metrics',
      },
      annotations: { summary: 'Pod is crash looping.', runbook_url: 'https://runbooks/KubePodCrashLooping' },
      startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=...',
      fingerprint: 'a1b2c3d4e5f60718',
    },
    {
      status: 'resolved',
      labels: {
        alertname: 'KubeDeploymentReplicasMismatch',
        severity: 'warning',
        namespace: 'shop',
        deployment: 'cart',
      },
      annotations: { description: 'replicas mismatch' },
      startsAt,
      endsAt: new Date().toISOString(),
      generatorURL: '',
      fingerprint: '0f1e2d3c4b5a6978',
    },
  ],
}

describe('Alertmanager webhook', () => {
  it('stores each alert of a version 4 payload, placed by its labels', async () => {
    const harness = intakeHarness()
    const seen = await harness.collect<ExternalAlert>(TOPICS.externalAlerts)
    const app = await harness.server([
      alertmanagerSource({ intake: harness.intake, metrics: harness.metrics }),
    ])
    const post = (body: unknown) =>
      app.inject({
        method: 'POST',
        url: '/ingest/alertmanager',
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      })
    const answer = await post(payload)
    expect(answer.statusCode).toBe(200)
    expect(answer.json()).toEqual({ accepted: 2 })
    while (seen.length < 2) await sleep(10)
    expect(seen[0]).toMatchObject({
      cluster: 'c1',
      source: 'alertmanager',
      receiver: 'argus',
      status: 'firing',
      alertname: 'KubePodCrashLooping',
      severity: 'critical',
      namespace: 'shop',
      pod: 'catalog-6d4cf56db6-x7k2p',
      container: 'catalog',
      workload: { kind: 'Deployment', name: 'catalog' },
      startsAt: Date.parse(startsAt),
      ts: Date.parse(startsAt),
      fingerprint: 'a1b2c3d4e5f60718',
      groupKey: payload.groupKey,
      annotations: { summary: 'Pod is crash looping.' },
    })
    expect(seen[0]?.endsAt).toBeUndefined()
    expect(seen[1]).toMatchObject({ status: 'resolved', workload: { kind: 'Deployment', name: 'cart' } })
    expect(seen[1]?.endsAt).toBe(Date.parse(payload.alerts[1]?.endsAt as string))

    // 10,000 broken payloads: each a 400 with a reason, counted; nothing else is published.
    const { next: random } = seededRandom(5)
    const text = JSON.stringify(payload)
    const shapes: Array<() => string> = [
      () => text.slice(0, Math.floor(random() * text.length)),
      () => JSON.stringify({ ...payload, version: '3' }),
      () => JSON.stringify({ ...payload, alerts: 'none' }),
      () => JSON.stringify({ ...payload, alerts: [{ ...payload.alerts[0], status: 'pending' }] }),
      () => JSON.stringify({ ...payload, alerts: [{ ...payload.alerts[0], startsAt: 'soon' }] }),
      () => JSON.stringify({ ...payload, receiver: 7 }),
      () =>
        String.fromCharCode(
          ...Array.from({ length: 1 + Math.floor(random() * 40) }, () => 32 + Math.floor(random() * 90)),
        ),
    ]
    for (let i = 0; i < 10_000; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/ingest/alertmanager',
        payload: (shapes[i % shapes.length] as () => string)(),
        headers: { 'content-type': 'application/json' },
      })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ error: { code: 'ARGUS_ERR_BAD_INPUT' } })
    }
    await sleep(50)
    expect(seen).toHaveLength(2)
    // Refused whole (not JSON, not version 4, ...), or alert by alert.
    const refused =
      (await harness.metricTotal(/^argus_alertmanager_rejected_total /)) +
      (await harness.metricTotal(/^argus_ingest_signals_total\{kind="external_alert",outcome="rejected"\}/))
    expect(refused).toBe(10_000)
    await harness.stop()
  }, 120_000)

  it('reaches storage in a running Argus', async () => {
    argus = await startArgus({
      dataDir: join(dir, 'data'),
      env: { ARGUS_SIM: 'off', ARGUS_WRITER_MAX_WAIT_MS: '100' },
    })
    const response = await fetch(`${argus.url}/ingest/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    })
    expect(response.status).toBe(200)
    let stored = 0
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && stored < 2; await sleep(200)) {
      const counts = (await (
        await fetch(`${argus.url}/api/v1/signals/counts?from=-1d&to=${Date.now() + 60_000}`)
      ).json()) as {
        counts: { externalAlerts: number }
      }
      stored = counts.counts.externalAlerts
    }
    expect(stored).toBe(2)
  })
})
