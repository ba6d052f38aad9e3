import type { Notification } from './alert-dispatcher.js'
import type { ChatPlatform } from './chat-messages.js'

/** At most `max` messages per `perMs`, with bursts of up to `max`. */
export interface RateLimit {
  max: number
  perMs: number
}

/**
 * What each platform documents for one robot or webhook; beyond it messages are refused (DingTalk
 * then blocks the robot for 10 minutes). Feishu allows 100 a minute and 5 a second: 5 per 3 s
 * keeps both. A receiver's `rate_limit` overrides these.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ChatPlatform, RateLimit | undefined>> = {
  dingtalk: { max: 20, perMs: 60_000 },
  wecom: { max: 20, perMs: 60_000 },
  feishu: { max: 5, perMs: 3_000 },
  slack: { max: 1, perMs: 1_000 },
  teams: { max: 4, perMs: 1_000 },
  webhook: undefined,
}

/** Why a queued notification was not sent as it was. */
export interface QueueOutcome {
  notification: Notification
  status: 'superseded' | 'dropped'
  reason: string
}

/**
 * One receiver's outbox: notifications wait here for the rate limit. A newer notification of a
 * group replaces a waiting older one (it carries the group's current state, plus the older one's
 * resolved alerts), so waiting never piles up stale messages; the queue holds at most `maxQueued`
 * groups and refuses more, reported to the caller so the drop is counted and logged.
 */
export class ReceiverQueue {
  private readonly waiting: Notification[] = []
  private tokens: number
  private refilledAt: number

  constructor(
    readonly limit: RateLimit | undefined,
    private readonly maxQueued = 1_000,
    now = Date.now(),
  ) {
    this.tokens = limit?.max ?? Infinity
    this.refilledAt = now
  }

  get length(): number {
    return this.waiting.length
  }

  push(notification: Notification): QueueOutcome | undefined {
    const i = this.waiting.findIndex((n) => n.groupKey === notification.groupKey)
    if (i >= 0) {
      const older = this.waiting[i] as Notification
      this.waiting[i] = merge(older, notification)
      return {
        notification: older,
        status: 'superseded',
        reason: `replaced by sequence ${notification.sequence}`,
      }
    }
    if (this.waiting.length >= this.maxQueued)
      return {
        notification,
        status: 'dropped',
        reason: `receiver queue full (${this.maxQueued} groups waiting for the rate limit)`,
      }
    this.waiting.push(notification)
    return undefined
  }

  /** The next notification if the rate limit allows one now (it is then counted as sent). */
  take(now: number): Notification | undefined {
    if (this.waiting.length === 0) return undefined
    this.refill(now)
    if (this.tokens < 1) return undefined
    this.tokens -= 1
    return this.waiting.shift()
  }

  /** Whether the next notification waits for the rate limit rather than for the receiver. */
  throttled(now: number): boolean {
    this.refill(now)
    return this.waiting.length > 0 && this.tokens < 1
  }

  private refill(now: number): void {
    if (!this.limit) return
    const elapsed = Math.max(0, now - this.refilledAt)
    this.tokens = Math.min(this.limit.max, this.tokens + (elapsed * this.limit.max) / this.limit.perMs)
    this.refilledAt = now
  }
}

function merge(older: Notification, newer: Notification): Notification {
  const firing = new Set(newer.firing.map((a) => a.fingerprint))
  const told = new Set(newer.resolved.map((a) => a.fingerprint))
  const resolved = [
    ...newer.resolved,
    ...older.resolved.filter((a) => !firing.has(a.fingerprint) && !told.has(a.fingerprint)),
  ]
  return { ...newer, resolved, status: newer.firing.length > 0 ? 'firing' : 'resolved' }
}
