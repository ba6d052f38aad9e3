import type { Alert } from '../core/index.js'
import type { Notification } from './alert-dispatcher.js'

export type Language = 'en' | 'zh'
export type ChatPlatform = 'slack' | 'dingtalk' | 'wecom' | 'feishu' | 'teams' | 'webhook'

/**
 * What every chat message says, whatever the platform: a title with the status and severity, each
 * alert's summary, the top root causes with their evidence, the actions taken or proposed, and a
 * link to the incident. Alerts carry these as annotations: `summary`, `rootCauses` (one per line,
 * best first), `actions`, `incidentUrl`.
 */
export interface ChatMessage {
  title: string
  severity: string
  status: 'firing' | 'resolved'
  summaries: string[]
  rootCauses: string[]
  actions: string[]
  link?: string
}

const TEXT = {
  en: {
    firing: 'FIRING',
    resolved: 'RESOLVED',
    rootCauses: 'Likely root causes',
    actions: 'Actions',
    open: 'Open the incident',
    severity: 'Severity',
    reopened: (n: string) => `back after it was resolved (${n}x)`,
  },
  zh: {
    firing: '告警',
    resolved: '已恢复',
    rootCauses: '可能的根因',
    actions: '处置动作',
    open: '查看事件',
    severity: '级别',
    reopened: (n: string) => `恢复后再次发生（${n} 次）`,
  },
} as const

const SEVERITY_ORDER = ['info', 'warning', 'critical']

export function chatMessage(notification: Notification, language: Language = 'en'): ChatMessage {
  const t = TEXT[language]
  const alerts: Alert[] = [...notification.firing, ...notification.resolved]
  const severity = alerts
    .map((a) => a.labels.severity ?? 'warning')
    .reduce((worst, s) => (SEVERITY_ORDER.indexOf(s) > SEVERITY_ORDER.indexOf(worst) ? s : worst), 'info')
  const first = alerts[0]
  const name = first?.labels.alertname ?? Object.values(notification.groupLabels).join(' ')
  const count = notification.status === 'firing' ? notification.firing.length : notification.resolved.length
  const lines = (key: string): string[] =>
    [
      ...new Set(
        alerts.flatMap((a) => (a.annotations[key] ?? '').split('\n').filter((l) => l.trim() !== '')),
      ),
    ].slice(0, 5)
  const link = alerts.find((a) => a.annotations.incidentUrl)?.annotations.incidentUrl
  return {
    title: `[${notification.status === 'firing' ? t.firing : t.resolved}${count > 1 ? ` x${count}` : ''}] ${name}`,
    severity,
    status: notification.status,
    summaries: alerts
      .map((a) => {
        const summary = a.annotations.summary ?? a.labels.alertname ?? a.fingerprint
        const reopened = a.annotations.reopened
        return reopened && a.status === 'firing' ? `${summary}: ${t.reopened(reopened)}` : summary
      })
      .slice(0, 10),
    rootCauses: lines('rootCauses'),
    actions: lines('actions'),
    ...(link !== undefined && { link }),
  }
}

/** The message as Markdown (DingTalk, WeCom, Feishu and Slack each take a dialect of it). */
export function markdownOf(message: ChatMessage, language: Language, bold = '**'): string {
  const t = TEXT[language]
  const parts = [
    `${bold}${message.title}${bold}`,
    `${t.severity}: ${message.severity}`,
    ...message.summaries.map((s) => `- ${s}`),
  ]
  if (message.rootCauses.length > 0)
    parts.push('', `${bold}${t.rootCauses}${bold}`, ...message.rootCauses.map((r, i) => `${i + 1}. ${r}`))
  if (message.actions.length > 0)
    parts.push('', `${bold}${t.actions}${bold}`, ...message.actions.map((a) => `- ${a}`))
  if (message.link) parts.push('', `[${t.open}](${message.link})`)
  return parts.join('\n')
}

/** The request body each platform expects. Signing (DingTalk's URL, Feishu's body fields) is added by the sender. */
export function platformBody(
  platform: Exclude<ChatPlatform, 'webhook'>,
  message: ChatMessage,
  language: Language,
): Record<string, unknown> {
  switch (platform) {
    case 'slack':
      return {
        text: message.title,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150) } },
          {
            type: 'section',
            text: { type: 'mrkdwn', text: markdownOf(message, language, '*').slice(0, 3000) },
          },
        ],
      }
    case 'dingtalk':
      return { msgtype: 'markdown', markdown: { title: message.title, text: markdownOf(message, language) } }
    case 'wecom':
      // WeCom markdown content is limited to 4096 bytes.
      return {
        msgtype: 'markdown',
        markdown: { content: truncateBytes(markdownOf(message, language), 4096) },
      }
    case 'feishu':
      return {
        msg_type: 'interactive',
        card: {
          header: {
            title: { tag: 'plain_text', content: message.title },
            template:
              message.status === 'resolved' ? 'green' : message.severity === 'critical' ? 'red' : 'orange',
          },
          elements: [{ tag: 'markdown', content: markdownOf(message, language) }],
        },
      }
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', size: 'Large', weight: 'Bolder', text: message.title, wrap: true },
                { type: 'TextBlock', text: markdownOf(message, language), wrap: true },
              ],
              ...(message.link && {
                actions: [{ type: 'Action.OpenUrl', title: TEXT[language].open, url: message.link }],
              }),
            },
          },
        ],
      }
  }
}

/** The Alertmanager webhook payload (version 4), so tooling written for Alertmanager works unchanged. */
export function alertmanagerPayload(
  notification: Notification,
  externalUrl: string,
): Record<string, unknown> {
  const alerts = [...notification.firing, ...notification.resolved]
  const common = (pick: (a: Alert) => Record<string, string>): Record<string, string> => {
    const [first, ...rest] = alerts.map(pick)
    return Object.fromEntries(Object.entries(first ?? {}).filter(([k, v]) => rest.every((r) => r[k] === v)))
  }
  const time = (ms: number | undefined): string =>
    ms === undefined ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString()
  return {
    version: '4',
    groupKey: notification.groupKey,
    truncatedAlerts: 0,
    status: notification.status,
    receiver: notification.receiver,
    groupLabels: notification.groupLabels,
    commonLabels: common((a) => a.labels),
    commonAnnotations: common((a) => a.annotations),
    externalURL: externalUrl,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: time(a.startsAt),
      endsAt: time(a.endsAt),
      generatorURL: a.annotations.incidentUrl ?? externalUrl,
      fingerprint: a.fingerprint,
    })),
  }
}

function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text)
  return bytes.length <= max
    ? text
    : `${bytes
        .subarray(0, max - 3)
        .toString('utf8')
        .replace(/\uFFFD$/, '')}...`
}
