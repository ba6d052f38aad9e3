import { describe, expect, it } from 'vitest'
import type { Notification } from '../../../alerts/alert-dispatcher.js'
import { alertFingerprint } from '../../../alerts/alert-fingerprint.js'
import { parseAlertConfig } from '../../../alerts/alert-config.js'
import { ReceiverQueue } from '../../../alerts/receiver-queues.js'
import type { Alert } from '../../../core/index.js'

const T0 = Date.parse('2026-11-01T00:00:00Z')

function alert(name: string, status: Alert['status'] = 'firing'): Alert {
  const labels = { alertname: name }
  return {
    ts: T0,
    cluster: 'c1',
    fingerprint: alertFingerprint(labels),
    status,
    labels,
    annotations: {},
    startsAt: T0,
  }
}

function notification(
  group: string,
  sequence: number,
  firing: Alert[],
  resolved: Alert[] = [],
): Notification {
  return {
    receiver: 'ops',
    routeId: '0',
    groupKey: group,
    groupLabels: {},
    status: firing.length > 0 ? 'firing' : 'resolved',
    firing,
    resolved,
    sequence,
  }
}

describe('receiver queues', () => {
  it('sends no faster than the rate limit, bursts up to it, and refills over time', () => {
    const queue = new ReceiverQueue({ max: 2, perMs: 60_000 }, 100, T0)
    for (let i = 0; i < 4; i++) expect(queue.push(notification(`g${i}`, 1, [alert(`A${i}`)]))).toBeUndefined()
    expect(queue.take(T0)?.groupKey).toBe('g0')
    expect(queue.take(T0)?.groupKey).toBe('g1')
    expect(queue.take(T0)).toBeUndefined()
    expect(queue.throttled(T0)).toBe(true)
    expect(queue.take(T0 + 29_000)).toBeUndefined() // one token takes 30 s
    expect(queue.take(T0 + 30_000)?.groupKey).toBe('g2')
    expect(queue.take(T0 + 90_000)?.groupKey).toBe('g3')
    expect(queue.length).toBe(0)
  })

  it('lets a newer notification of a waiting group replace the older, keeping what it resolved', () => {
    const queue = new ReceiverQueue({ max: 1, perMs: 60_000 }, 100, T0)
    queue.push(notification('other', 1, [alert('X')]))
    expect(queue.take(T0)?.groupKey).toBe('other') // the token is spent: the rest waits
    queue.push(notification('g', 1, [alert('B')], [alert('A', 'resolved')]))
    const outcome = queue.push(notification('g', 2, [alert('B'), alert('C')]))
    expect(outcome).toMatchObject({ status: 'superseded', reason: 'replaced by sequence 2' })
    expect(queue.length).toBe(1)
    const sent = queue.take(T0 + 60_000)
    expect(sent?.sequence).toBe(2)
    expect(sent?.firing.map((a) => a.labels.alertname)).toEqual(['B', 'C'])
    expect(sent?.resolved.map((a) => a.labels.alertname)).toEqual(['A']) // not lost by the replacement
  })

  it('refuses groups beyond its bound and says so (counted and logged by the alerter)', () => {
    const queue = new ReceiverQueue({ max: 1, perMs: 60_000 }, 2, T0)
    queue.take(T0)
    expect(queue.push(notification('a', 1, [alert('A')]))).toBeUndefined()
    expect(queue.push(notification('b', 1, [alert('B')]))).toBeUndefined()
    expect(queue.push(notification('c', 1, [alert('C')]))).toMatchObject({
      status: 'dropped',
      reason: expect.stringMatching(/queue full/),
    })
    const unlimited = new ReceiverQueue(undefined, 10, T0)
    for (let i = 0; i < 10; i++) unlimited.push(notification(`g${i}`, 1, [alert('A')]))
    expect(Array.from({ length: 10 }, () => unlimited.take(T0)).every(Boolean)).toBe(true)
  })

  it('gives each platform its documented limit unless the receiver sets one', () => {
    const config = parseAlertConfig(
      [
        'route: { receiver: ding }',
        'receivers:',
        "  - { name: ding, dingtalk: { url: 'https://oapi.dingtalk.com/robot/send?access_token=T' } }",
        "  - { name: hook, webhook: { url: 'http://127.0.0.1:1/' } }",
        "  - { name: slow, webhook: { url: 'http://127.0.0.1:1/' }, rate_limit: { max: 3, per: 1m } }",
      ].join('\n'),
    )
    expect(config.receivers.get('ding')?.rateLimit).toEqual({ max: 20, perMs: 60_000 })
    expect(config.receivers.get('hook')?.rateLimit).toBeUndefined()
    expect(config.receivers.get('slow')?.rateLimit).toEqual({ max: 3, perMs: 60_000 })
  })
})
