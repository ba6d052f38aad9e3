import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAlertConfig } from '../../../alerts/alert-config.js'
import { createIncidentAlerter } from '../../../alerts/incident-alerter.js'
import { Silences } from '../../../alerts/silences.js'
import { TOPICS, sleep, type AlertDelivery, type Incident, type Silence } from '../../../core/index.js'
import { intakeHarness, type IntakeHarness } from '../../helpers/intake-harness.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { until } from '../../helpers/until.js'

// The alerter on an in-process bus, posting to a local webhook: what reaches chat, what is muted
// (time intervals, silences from the bus and from storage), what waits for a rate limit, and the
// delivery log it publishes.
const posted: Array<{ path: string; namespaces: string[]; actions: string[] }> = []
let server: Server
let base = ''
let harness: IntakeHarness

beforeAll(async () => {
  server = createServer((request, response) => {
    let data = ''
    request.on('data', (chunk: Buffer) => (data += chunk.toString()))
    request.on('end', () => {
      const body = JSON.parse(data) as {
        alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>
      }
      posted.push({
        path: request.url ?? '',
        namespaces: body.alerts.map((a) => a.labels.namespace ?? ''),
        actions: body.alerts.flatMap((a) => (a.annotations.actions ? [a.annotations.actions] : [])),
      })
      response.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  harness = intakeHarness()
})
afterAll(async () => {
  await harness.stop()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

let version = 0
function incident(namespace: string): { key: string; value: Incident } {
  const now = Date.now()
  return {
    key: `c1/inc-${namespace}`,
    value: {
      ts: now,
      cluster: 'c1',
      namespace,
      id: `inc-${namespace}`,
      status: 'open',
      severity: 'warning',
      title: `trouble in ${namespace}`,
      openedAt: now,
      anomalyIds: [],
      entities: [],
      version: ++version,
    },
  }
}

const postedTo = (namespace: string) => posted.filter((p) => p.namespaces.includes(namespace))

describe('incident alerter', () => {
  it('mutes by time interval and silence, waits for the rate limit, and logs every delivery', async () => {
    const config = parseAlertConfig(
      [
        'route:',
        '  receiver: ops',
        '  group_by: [incident]',
        '  group_wait: 0s',
        '  group_interval: 1s',
        '  routes:',
        '    - { matchers: [\'namespace="night"\'], mute_time_intervals: [always] }',
        '    - { matchers: [\'namespace=~"limited.*"\'], receiver: slow }',
        'time_intervals: [{ name: always, time_intervals: [{}] }]',
        'receivers:',
        `  - { name: ops, webhook: { url: '${base}/ops' } }`,
        `  - { name: slow, webhook: { url: '${base}/slow' }, rate_limit: { max: 1, per: 1h } }`,
      ].join('\n'),
    )
    const now = Date.now()
    const preloaded = Silences.create(
      {
        matchers: ['namespace="preloaded"'],
        startsAt: now,
        endsAt: now + 3_600_000,
        createdBy: 't',
        comment: 'c',
      },
      now,
    )
    const deliveries = await harness.collect<AlertDelivery>(TOPICS.alertDeliveries)
    const alerter = createIncidentAlerter({
      bus: harness.bus,
      logger: quietLogger(),
      metrics: harness.metrics,
      config,
      externalUrl: 'https://argus.example',
      tickMs: 50,
      loadSilences: async () => [preloaded],
    })
    await alerter.start()
    try {
      const quiet: Silence = Silences.create(
        {
          matchers: ['namespace="quiet"'],
          startsAt: now,
          endsAt: now + 3_600_000,
          createdBy: 't',
          comment: 'c',
        },
        now,
      )
      await harness.bus.publish(TOPICS.silences, [{ key: quiet.id, value: quiet }])
      await until(() => (alerter.silences.list().length === 2 ? true : undefined), 'the silence from the bus')
      await harness.bus.publish(
        TOPICS.incidents,
        ['shop', 'night', 'quiet', 'preloaded', 'limited-1', 'limited-2'].map(incident),
      )
      await until(() => (postedTo('shop').length > 0 ? true : undefined), 'the shop incident posted')
      await until(
        () => (postedTo('limited-1').length + postedTo('limited-2').length > 0 ? true : undefined),
        'one limited',
      )
      await sleep(1_500) // a group_interval and more: anything due would have gone by now
      expect(postedTo('night')).toEqual([])
      expect(postedTo('quiet')).toEqual([])
      expect(postedTo('preloaded')).toEqual([])
      // One message an hour to `slow`: the second incident waits in its queue.
      expect(posted.filter((p) => p.path === '/slow')).toHaveLength(1)
      expect(await harness.metricTotal(/argus_alert_queue_length\{receiver="slow"\}/)).toBe(1)
      expect(await harness.metricTotal(/argus_alert_rate_limited_total\{receiver="slow"\}/)).toBe(1)

      // Expiring the silence (a newer version on the bus) lets the quiet incident through.
      const expired = Silences.expired(quiet, Date.now())
      await harness.bus.publish(TOPICS.silences, [{ key: quiet.id, value: expired }])
      await until(
        () => (postedTo('quiet').length > 0 ? true : undefined),
        'the quiet incident after expiry',
        5_000,
      )

      // A remediation action on an incident is news: told at the next group_interval.
      await harness.bus.publish(TOPICS.actions, [
        {
          key: 'c1/inc-shop',
          value: {
            ts: Date.now(),
            cluster: 'c1',
            id: 'act-1',
            incidentId: 'inc-shop',
            kind: 'restart',
            target: { kind: 'Deployment', name: 'cart', namespace: 'shop' },
            params: {},
            status: 'dry_run',
            reason: 'policy restart-crashloops is in dry-run',
          },
        },
      ])
      const withAction = await until(
        () => posted.find((p) => p.namespaces.includes('shop') && p.actions.length > 0),
        'the shop incident again, with its action',
        5_000,
      )
      expect(withAction.actions[0]).toBe(
        'Dry run (not applied): restart Deployment/cart (policy restart-crashloops is in dry-run)',
      )

      // An action waiting for approval links to where it is approved.
      await harness.bus.publish(TOPICS.actions, [
        {
          key: 'c1/inc-shop',
          value: {
            ts: Date.now(),
            cluster: 'c1',
            id: 'act-2',
            incidentId: 'inc-shop',
            kind: 'rollback',
            target: { kind: 'Deployment', name: 'cart', namespace: 'shop' },
            params: {},
            status: 'pending_approval',
            reason: 'policy bad-release-rollback needs approval',
          },
        },
      ])
      const waiting = await until(
        () => posted.find((p) => p.actions.some((a) => a.includes('Waiting for approval'))),
        'the approval link',
        5_000,
      )
      expect(waiting.actions[0]).toMatch(
        /Waiting for approval: rollback Deployment\/cart .*; approve: POST https:\/\/argus\.example\/api\/v1\/actions\/act-2\/approve/,
      )

      // The delivery log: one delivered record per message, naming its incident.
      await until(() => (deliveries.length >= 3 ? true : undefined), 'three delivery records')
      const delivered = deliveries.filter((d) => d.status === 'delivered')
      expect(delivered.map((d) => d.incidentIds[0]).sort()).toEqual(
        expect.arrayContaining(['inc-quiet', 'inc-shop']),
      )
      expect(
        delivered.every((d) => d.attempts === 1 && d.cluster === 'c1' && d.notificationStatus === 'firing'),
      ).toBe(true)
    } finally {
      await alerter.stop()
    }
  })
})
