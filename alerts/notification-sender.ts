import { ArgusError, errorMessage, retry, type AlertDelivery, type RetryOptions } from '../core/index.js'
import type { Notification } from './alert-dispatcher.js'
import {
  alertmanagerPayload,
  chatMessage,
  platformBody,
  type ChatPlatform,
  type Language,
} from './chat-messages.js'
import { dingTalkSignedUrl, feishuSignature } from './chat-signing.js'
import type { RateLimit } from './receiver-queues.js'

/** A receiver as configured: where to send, in which format and language, and its secret if signed. */
export interface ReceiverConfig {
  name: string
  platform: ChatPlatform
  url: string
  /** DingTalk and Feishu signing secret; never logged. */
  secret?: string
  language?: Language
  timeoutMs?: number
  /** Messages allowed per period (the platform's documented limit unless configured). */
  rateLimit?: RateLimit
}

/** One delivery outcome: what the delivery log stores. */
export interface DeliveryRecord {
  ts: number
  receiver: string
  groupKey: string
  sequence: number
  idempotencyKey: string
  /** superseded: a newer message of its group replaced it while it waited for the rate limit. */
  status: AlertDelivery['status']
  attempts: number
  /** Why it ended in the dead-letter record (last error), when it did. */
  reason?: string
  statusCode?: number
  notificationStatus: 'firing' | 'resolved'
  /** The alerts it told of, firing then resolved, and their incidents. */
  fingerprints: string[]
  incidentIds: string[]
}

export interface NotificationSenderOptions {
  /** Argus's own URL: links and the webhook's externalURL. */
  externalUrl: string
  retry?: Partial<RetryOptions>
  /** Where outcomes go (storage in the service, an array in tests). */
  record: (entry: DeliveryRecord) => void | Promise<void>
  now?: () => number
  /** Keys remembered for idempotency. */
  rememberKeys?: number
}

/**
 * Delivers notifications to chat: the platform's body (signed where the platform signs), retried
 * with backoff and jitter on network errors, timeouts, 429 and 5xx; a 4xx other than 429 is the
 * receiver refusing the message and goes straight to the dead-letter record with its reason. A
 * notification already delivered (the same group and sequence, e.g. redelivered by the bus) is not
 * posted twice.
 */
export class NotificationSender {
  private readonly delivered = new Set<string>()
  private readonly now: () => number

  constructor(private readonly options: NotificationSenderOptions) {
    this.now = options.now ?? Date.now
  }

  async send(notification: Notification, receiver: ReceiverConfig): Promise<DeliveryRecord> {
    const idempotencyKey = idempotencyKeyOf(notification, receiver.name)
    const base = { ...deliveryBase(notification, receiver.name), idempotencyKey }
    if (this.delivered.has(idempotencyKey)) {
      const duplicate: DeliveryRecord = { ts: this.now(), ...base, status: 'duplicate', attempts: 0 }
      await this.options.record(duplicate)
      return duplicate
    }
    let attempts = 0
    let lastStatus: number | undefined
    let outcome: DeliveryRecord
    try {
      await retry(
        async () => {
          attempts++
          lastStatus = await this.post(notification, receiver, idempotencyKey)
        },
        {
          maxAttempts: 6,
          initialDelayMs: 500,
          maxDelayMs: 30_000,
          factor: 2,
          jitter: 0.3,
          ...this.options.retry,
        },
      )
      outcome = {
        ts: this.now(),
        ...base,
        status: 'delivered',
        attempts,
        ...(lastStatus !== undefined && { statusCode: lastStatus }),
      }
      this.remember(idempotencyKey)
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause ?? error
      const statusCode = (cause as { statusCode?: number }).statusCode
      outcome = {
        ts: this.now(),
        ...base,
        status: 'dead_letter',
        attempts,
        reason: errorMessage(cause),
        ...(statusCode !== undefined && { statusCode }),
      }
    }
    await this.options.record(outcome)
    return outcome
  }

  private async post(
    notification: Notification,
    receiver: ReceiverConfig,
    idempotencyKey: string,
  ): Promise<number> {
    const language = receiver.language ?? 'en'
    let url = receiver.url
    let body: Record<string, unknown>
    if (receiver.platform === 'webhook') body = alertmanagerPayload(notification, this.options.externalUrl)
    else body = platformBody(receiver.platform, chatMessage(notification, language), language)
    if (receiver.secret && receiver.platform === 'dingtalk')
      url = dingTalkSignedUrl(url, receiver.secret, this.now())
    if (receiver.secret && receiver.platform === 'feishu')
      body = { ...feishuSignature(receiver.secret, this.now()), ...body }
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(receiver.timeoutMs ?? 10_000),
      })
      await response.arrayBuffer()
    } catch (error) {
      throw new ArgusError('ARGUS_ERR_TIMEOUT', `${receiver.name}: ${errorMessage(error)}`, {
        retriable: true,
        cause: error,
      })
    }
    if (response.ok) return response.status
    const retriable = response.status === 429 || response.status >= 500
    throw Object.assign(
      new ArgusError('ARGUS_ERR_RETRY_EXHAUSTED', `${receiver.name} answered HTTP ${response.status}`, {
        retriable,
      }),
      { statusCode: response.status },
    )
  }

  private remember(key: string): void {
    this.delivered.add(key)
    if (this.delivered.size > (this.options.rememberKeys ?? 100_000))
      this.delivered.delete(this.delivered.values().next().value as string)
  }
}

/** What every delivery record of a notification says, whatever its outcome. */
export function deliveryBase(
  notification: Notification,
  receiver: string,
): Omit<DeliveryRecord, 'ts' | 'status' | 'attempts' | 'idempotencyKey'> {
  const alerts = [...notification.firing, ...notification.resolved]
  return {
    receiver,
    groupKey: notification.groupKey,
    sequence: notification.sequence,
    notificationStatus: notification.status,
    fingerprints: alerts.map((a) => a.fingerprint),
    incidentIds: [...new Set(alerts.flatMap((a) => (a.incidentId ? [a.incidentId] : [])))],
  }
}

/** The key receivers can deduplicate on: the receiver, the group and the notification's sequence. */
export function idempotencyKeyOf(notification: Notification, receiver: string): string {
  return `${receiver}/${notification.groupKey}/${notification.sequence}`
}
