import { workloadOfAggregatedName, type Anomaly, type NetworkFlow } from '../core/index.js'
import { StreamingDetector } from './metric-detector.js'

export interface FlowTrackerOptions {
  /** Minutes of flows seen before an edge never seen counts as new. */
  warmupMinutes?: number
  /** Edges tracked at most (least recently active forgotten first). */
  maxEdges?: number
}

interface Edge {
  key: string
  source: { namespace: string; name: string }
  destination: { namespace: string; name: string; service?: string | undefined }
  flows: number
  denied: number
  /** Consecutive closed minutes with traffic, and with none since. */
  activeStreak: number
  silentMinutes: number
  deniedRate: StreamingDetector
  /** Denied flows per minute, as usual (slow average of closed minutes). */
  usualDenied: number
  minutes: number
  /** The minute a surge was already reported in (early, before the minute closed). */
  surgeMinute: number
}

const MINUTE = 60_000
/** An edge busy for this many minutes in a row that then carries nothing for two is a dependency gone quiet. */
const STEADY_MINUTES = 10
/** Denied flows in a minute below which nothing is a surge. */
const MIN_SURGE = 10
/** Denied flows on an edge that usually has none that are reported before the minute closes. */
const MIN_EARLY_SURGE = 5
/** Closed minutes an edge needs before a surge is reported before its minute closes. */
const EARLY_SURGE_AFTER_MINUTES = 5

/**
 * Flow anomalies on the service graph Calico reports: a surge of denied flows on an edge (against
 * that edge's own denied rate), an edge never seen before (after a warm-up), and a steady
 * dependency whose traffic drops to zero. Minutes close on the flows' own time, so a replay gives
 * the same answers.
 */
export class FlowTracker {
  private readonly edges = new Map<string, Edge>()
  private readonly warmupMinutes: number
  private readonly maxEdges: number
  private currentMinute: number | undefined
  private firstMinute: number | undefined

  constructor(options: FlowTrackerOptions = {}) {
    this.warmupMinutes = options.warmupMinutes ?? 30
    this.maxEdges = options.maxEdges ?? 50_000
  }

  observe(flow: NetworkFlow): Anomaly[] {
    const found: Anomaly[] = []
    const minute = Math.floor(flow.endTs / MINUTE)
    this.firstMinute ??= minute
    this.currentMinute ??= minute
    if (minute > this.currentMinute) {
      for (let m = this.currentMinute; m < minute && m < this.currentMinute + 60; m++)
        found.push(...this.closeMinute(m, flow))
      this.currentMinute = minute
    }
    // Keyed by workload, not ReplicaSet: a rollout renames the pods but keeps the dependency.
    const source = workloadOfAggregatedName(flow.source.aggregatedName)
    const destination = workloadOfAggregatedName(flow.destination.aggregatedName)
    const key = `${flow.cluster}|${flow.source.namespace}/${source}>${flow.destination.namespace}/${destination}`
    let edge = this.edges.get(key)
    if (edge) {
      this.edges.delete(key)
      this.edges.set(key, edge)
    } else {
      if (this.edges.size >= this.maxEdges) this.edges.delete(this.edges.keys().next().value as string)
      edge = {
        key,
        source: { namespace: flow.source.namespace, name: source },
        destination: {
          namespace: flow.destination.namespace,
          name: destination,
          service: flow.destServiceName,
        },
        flows: 0,
        denied: 0,
        activeStreak: 0,
        silentMinutes: 0,
        deniedRate: new StreamingDetector({ direction: 'up', warmup: 10, refractory: 15 }),
        usualDenied: 0,
        minutes: 0,
        surgeMinute: -1,
      }
      this.edges.set(key, edge)
      if (minute - this.firstMinute >= this.warmupMinutes) {
        const how = flow.action === 'deny' ? 'denied' : 'allowed'
        found.push(
          this.edgeAnomaly(
            flow,
            edge,
            `new-edge:${key}`,
            'new_edge',
            how === 'denied' ? 'warning' : 'info',
            0.6,
            {
              summary: `first traffic (${how})`,
              ts: flow.endTs,
            },
          ),
        )
      }
    }
    edge.flows += flow.flowCount
    if (flow.action === 'deny') {
      edge.denied += flow.flowCount
      // Early warning: a minute already far above the usual denied count need not wait to close.
      if (
        edge.surgeMinute !== minute &&
        edge.minutes >= EARLY_SURGE_AFTER_MINUTES &&
        edge.denied >= 4 * edge.usualDenied + MIN_EARLY_SURGE
      ) {
        edge.surgeMinute = minute
        found.push(this.surge(flow, edge, minute, 0.99, edge.usualDenied, flow.endTs))
      }
    }
    return found
  }

  private closeMinute(minute: number, context: NetworkFlow): Anomaly[] {
    const found: Anomaly[] = []
    for (const edge of this.edges.values()) {
      const denied = edge.deniedRate.update(edge.denied)
      if (
        edge.surgeMinute !== minute &&
        denied.score > 0.99 &&
        edge.denied >= MIN_SURGE &&
        edge.denied > 2 * denied.expected
      )
        found.push(this.surge(context, edge, minute, denied.score, denied.expected, (minute + 1) * MINUTE))
      edge.usualDenied += (edge.minutes === 0 ? 1 : 0.1) * (edge.denied - edge.usualDenied)
      edge.minutes++
      if (edge.flows > 0) {
        edge.activeStreak++
        edge.silentMinutes = 0
      } else {
        edge.silentMinutes++
        if (edge.silentMinutes === 2 && edge.activeStreak >= STEADY_MINUTES)
          found.push(
            this.edgeAnomaly(
              context,
              edge,
              `traffic-stopped:${edge.key}:${minute}`,
              'traffic_stopped',
              'warning',
              0.8,
              {
                summary: `no traffic for 2 minutes after ${edge.activeStreak} busy minutes in a row`,
                ts: (minute + 1) * MINUTE,
              },
            ),
          )
        if (edge.silentMinutes >= 2) edge.activeStreak = 0
      }
      edge.flows = 0
      edge.denied = 0
    }
    return found
  }

  private surge(
    context: NetworkFlow,
    edge: Edge,
    minute: number,
    score: number,
    usual: number,
    ts: number,
  ): Anomaly {
    return this.edgeAnomaly(
      context,
      edge,
      `denied-surge:${edge.key}:${minute}`,
      'denied_surge',
      'warning',
      score,
      {
        summary: `${edge.denied} denied flows in a minute (usually ${usual.toFixed(1)})`,
        ts,
      },
    )
  }

  private edgeAnomaly(
    context: NetworkFlow,
    edge: Edge,
    id: string,
    kind: string,
    severity: Anomaly['severity'],
    score: number,
    detail: { summary: string; ts: number },
  ): Anomaly {
    const anomaly: Anomaly = {
      ts: detail.ts,
      cluster: context.cluster,
      namespace: edge.destination.namespace,
      id,
      entity: {
        kind: 'Service',
        name: edge.destination.service ?? edge.destination.name,
        cluster: context.cluster,
      },
      signal: 'flow',
      kind,
      score,
      severity,
      summary: `${edge.source.name} -> ${edge.destination.name}: ${detail.summary}`,
      evidence: [{ signal: 'flow', ts: detail.ts, description: detail.summary }],
    }
    if (edge.destination.namespace) anomaly.entity.namespace = edge.destination.namespace
    if (edge.destination.service) anomaly.service = edge.destination.service
    return anomaly
  }
}
