/**
 * The HorizontalPodAutoscaler's scaling behaviour (autoscaling/v2 `behavior`), applied to Argus's
 * own recommendations: stabilisation windows (scale up to the lowest recommendation of the
 * scale-up window, down to the highest of the scale-down window), and rate policies (at most
 * max(pods, percent) added per period, at most percent removed per period). The defaults are the
 * HPA's: up immediately, by max(4 pods, 100%) per 60 s; down after 300 s, by 100% per 15 s.
 */
export interface ScaleBehaviour {
  minReplicas: number
  maxReplicas: number
  scaleUp: { stabilizationMs: number; pods: number; percent: number; periodMs: number }
  scaleDown: { stabilizationMs: number; percent: number; periodMs: number }
}

export const HPA_DEFAULT_BEHAVIOUR: Omit<ScaleBehaviour, 'minReplicas' | 'maxReplicas'> = {
  scaleUp: { stabilizationMs: 0, pods: 4, percent: 100, periodMs: 60_000 },
  scaleDown: { stabilizationMs: 300_000, percent: 100, periodMs: 15_000 },
}

interface Change {
  at: number
  from: number
  to: number
}

/** One workload's recommendations and scale events, and the replicas its behaviour allows now. */
export class ScaleStabiliser {
  private readonly recommendations: Array<{ at: number; replicas: number }> = []
  private readonly changes: Change[] = []

  constructor(private readonly behaviour: ScaleBehaviour) {}

  /** Records a recommendation and answers the replicas to set now (the current ones: no change). */
  desired(current: number, recommended: number, now: number): number {
    const b = this.behaviour
    const longest = Math.max(
      b.scaleUp.stabilizationMs,
      b.scaleDown.stabilizationMs,
      b.scaleUp.periodMs,
      b.scaleDown.periodMs,
    )
    this.recommendations.push({ at: now, replicas: clamp(recommended, b.minReplicas, b.maxReplicas) })
    while ((this.recommendations[0]?.at ?? now) < now - longest) this.recommendations.shift()
    while ((this.changes[0]?.at ?? now) < now - longest) this.changes.shift()

    const within = (ms: number) => this.recommendations.filter((r) => r.at >= now - ms).map((r) => r.replicas)
    // Up to the lowest recommendation of the scale-up window; down to the highest of the scale-down window.
    const upTo = Math.min(...within(b.scaleUp.stabilizationMs))
    const downTo = Math.max(...within(b.scaleDown.stabilizationMs))
    let target = current
    if (upTo > current) target = upTo
    else if (downTo < current) target = downTo

    if (target > current) {
      // Replicas at the start of the period: what was there before this period's scale-ups.
      const base = this.periodStart(current, now, b.scaleUp.periodMs)
      const limit = base + Math.max(b.scaleUp.pods, Math.ceil((base * b.scaleUp.percent) / 100))
      target = Math.min(target, Math.max(current, limit))
    } else if (target < current) {
      const base = this.periodStart(current, now, b.scaleDown.periodMs)
      const limit = base - Math.floor((base * b.scaleDown.percent) / 100)
      target = Math.max(target, Math.min(current, limit))
    }
    return clamp(target, b.minReplicas, b.maxReplicas)
  }

  /** Tells it a scale happened (it counts against the rate policies). */
  scaled(from: number, to: number, now: number): void {
    this.changes.push({ at: now, from, to })
  }

  private periodStart(current: number, now: number, periodMs: number): number {
    const first = this.changes.find((c) => c.at > now - periodMs)
    return first ? first.from : current
  }
}

const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x))
