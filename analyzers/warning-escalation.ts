import type { KubeEvent } from '../core/index.js'

export interface WarningEscalationOptions {
  /** A warning not seen for this long is news again when it comes back. */
  quietMs?: number
  /** Objects and reasons remembered; the least recently seen are forgotten first. */
  maxKeys?: number
}

interface Seen {
  /** floor(log2(count)) last reported. */
  tier: number
  lastTs: number
}

const tierOf = (count: number): number => Math.floor(Math.log2(Math.max(1, count)))

/**
 * When a Warning event is news: the first sighting of its object and reason, whatever count it
 * arrives with (Argus may start long after the event did), then each time its count reaches the
 * next power of two (escalation, not spam). Keyed by object and reason, not by the event's uid:
 * a kubelet or controller that records each repeat as a new event (count 1 each time) is one
 * ongoing warning, not a stream of new ones.
 */
export class WarningEscalation {
  private readonly quietMs: number
  private readonly maxKeys: number
  private readonly seen = new Map<string, Seen>()

  constructor(options: WarningEscalationOptions = {}) {
    this.quietMs = options.quietMs ?? 10 * 60_000
    this.maxKeys = options.maxKeys ?? 50_000
  }

  isNews(event: KubeEvent): boolean {
    const o = event.involvedObject
    const key = `${event.cluster}\u0000${o.kind}\u0000${o.namespace ?? ''}\u0000${o.name}\u0000${event.reason}`
    const tier = tierOf(event.count)
    const seen = this.seen.get(key)
    if (seen && event.ts - seen.lastTs <= this.quietMs) {
      seen.lastTs = Math.max(seen.lastTs, event.ts)
      this.touch(key, seen)
      if (tier <= seen.tier) return false
      seen.tier = tier
      return true
    }
    this.touch(key, { tier, lastTs: event.ts })
    return true
  }

  private touch(key: string, seen: Seen): void {
    this.seen.delete(key)
    this.seen.set(key, seen)
    if (this.seen.size > this.maxKeys) this.seen.delete(this.seen.keys().next().value as string)
  }
}
