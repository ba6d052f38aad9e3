import { describe, expect, it } from 'vitest'
import type { Notification } from '../../../alerts/alert-dispatcher.js'
import { alertFingerprint } from '../../../alerts/alert-fingerprint.js'
import { alertmanagerPayload, chatMessage, platformBody } from '../../../alerts/chat-messages.js'
import type { Alert } from '../../../core/index.js'

const T0 = Date.parse('2026-11-01T10:00:00Z')

function alert(pod: string, severity: string): Alert {
  const labels = { alertname: 'CheckoutErrors', namespace: 'shop', pod, severity }
  return {
    ts: T0,
    cluster: 'c1',
    fingerprint: alertFingerprint(labels),
    status: 'firing',
    labels,
    annotations: {
      summary: `error ratio of ${pod} rose to 13%`,
      rootCauses:
        'Deployment/checkout: rollout to checkout:1.5.0 10 s before onset\nConfigMap/checkout-config edited',
      actions: 'rollback Deployment/checkout (dry run)',
      incidentUrl: 'https://argus.example/incidents/inc-1',
    },
    startsAt: T0,
  }
}

const notification: Notification = {
  receiver: 'shop-team',
  routeId: '0.1',
  groupKey: '0.1:{"alertname":"CheckoutErrors"}',
  groupLabels: { alertname: 'CheckoutErrors' },
  status: 'firing',
  firing: [alert('checkout-a', 'warning'), alert('checkout-b', 'critical')],
  resolved: [],
  sequence: 1,
}

describe('chat messages', () => {
  it('say the status, worst severity, root causes with evidence, actions and the incident link', () => {
    const message = chatMessage(notification)
    expect(message).toMatchObject({
      title: '[FIRING x2] CheckoutErrors',
      severity: 'critical',
      status: 'firing',
    })
    expect(message.rootCauses).toEqual([
      'Deployment/checkout: rollout to checkout:1.5.0 10 s before onset',
      'ConfigMap/checkout-config edited',
    ])
    expect(message.link).toBe('https://argus.example/incidents/inc-1')
    expect(chatMessage(notification, 'zh').title).toBe('[告警 x2] CheckoutErrors')
  })

  it('say when a firing incident came back after it was resolved (flapping)', () => {
    const flapping = alert('checkout-a', 'warning')
    flapping.annotations.reopened = '2'
    const message = chatMessage({ ...notification, firing: [flapping] })
    expect(message.summaries).toEqual([
      'error ratio of checkout-a rose to 13%: back after it was resolved (2x)',
    ])
    expect(chatMessage({ ...notification, firing: [flapping] }, 'zh').summaries[0]).toContain(
      '恢复后再次发生（2 次）',
    )
  })

  it('build each platform body in its documented shape', () => {
    const message = chatMessage(notification, 'zh')
    const dingtalk = platformBody('dingtalk', message, 'zh') as {
      msgtype: string
      markdown: { title: string; text: string }
    }
    expect(dingtalk.msgtype).toBe('markdown')
    expect(dingtalk.markdown.text).toContain('**可能的根因**\n1. Deployment/checkout')
    expect(dingtalk.markdown.text).toContain('[查看事件](https://argus.example/incidents/inc-1)')
    expect(platformBody('wecom', message, 'zh')).toMatchObject({
      msgtype: 'markdown',
      markdown: { content: expect.any(String) },
    })
    expect(platformBody('feishu', message, 'zh')).toMatchObject({
      msg_type: 'interactive',
      card: { header: { title: { tag: 'plain_text', content: message.title }, template: 'red' } },
    })
    const slack = platformBody('slack', chatMessage(notification), 'en') as {
      blocks: Array<{ type: string }>
    }
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section'])
    expect(platformBody('teams', chatMessage(notification), 'en')).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            actions: [{ type: 'Action.OpenUrl', url: 'https://argus.example/incidents/inc-1' }],
          },
        },
      ],
    })
  })

  it('send the Alertmanager version 4 webhook payload, with common labels', () => {
    const payload = alertmanagerPayload(notification, 'https://argus.example')
    expect(payload).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'shop-team',
      groupLabels: { alertname: 'CheckoutErrors' },
      commonLabels: { alertname: 'CheckoutErrors', namespace: 'shop' },
      truncatedAlerts: 0,
    })
    const [first] = payload.alerts as Array<Record<string, unknown>>
    expect(first).toMatchObject({
      status: 'firing',
      startsAt: '2026-11-01T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
    })
  })
})
