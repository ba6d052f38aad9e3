import { createHash } from 'node:crypto'
import type { Anomaly, EntityRef, Incident, ResourceChange, RootCause, Severity } from '../core/index.js'
import {
  rankIncidentRootCauses,
  type IncidentRankingOptions,
  type RankedRootCause,
} from './incident-root-cause.js'
import { serviceNode, serviceNodesOf, type ServiceGraph, type ServiceNode } from './service-graph.js'

export interface IncidentCorrelatorOptions {
  /** An anomaly joins an incident whose last anomaly is at most this much older (default 5 min). */
  windowMs?: number
  /** An incident with no new anomaly for this long is resolved (default 10 min). */
  quietMs?: number
  /**
   * Flap control: an incident's root cause failing again this soon after the incident was resolved
   * reopens it (counted in its `reopened` attribute) instead of opening a new one. Off by default
   * (0): a different problem on the same entity would then be ranked together with the old one.
   */
  reopenMs?: number
  /** Graph distance (calls, either way) within which services are related (default 2). */
  hops?: number
  /** Open incidents at most; beyond, the oldest is resolved early (counted in `forcedResolutions`). */
  maxOpen?: number
  /** Anomalies kept per incident for ranking (the rest are counted, not kept). */
  maxAnomaliesPerIncident?: number
  /** Changes remembered for change correlation. */
  maxChanges?: number
  ranking?: IncidentRankingOptions
}

interface OpenIncident {
  incident: Incident
  anomalies: Anomaly[]
  lastTs: number
  nodes: Set<ServiceNode>
  entityKeys: Set<string>
  hosts: Set<string>
  changed: boolean
  ranking: RankedRootCause[]
}

export interface CorrelationOutput {
  incidents: Incident[]
  rootCauses: RootCause[]
}

const SEVERITY_ORDER: Record<Severity, number> = { info: 0, warning: 1, critical: 2 }
const REMEMBERED_ANOMALIES = 100_000
const REMEMBERED_RESOLVED = 1_000

/**
 * Groups anomalies into incidents: an anomaly joins an open incident when it is close in time and
 * related to it (the same entity, workload or node, or services within a couple of calls on the
 * service graph); otherwise it opens one. A repeated anomaly id (a redelivery) is ignored, and a
 * flapping entity keeps adding to its open incident instead of opening new ones (and, with
 * `reopenMs`, a root cause failing again soon after its incident was resolved reopens it). Each
 * change to an incident gives a new version with a fresh root-cause ranking; a quiet incident is
 * resolved.
 * Time is the anomalies' own, advanced by the caller's clock between them.
 */
export class IncidentCorrelator {
  private readonly open = new Map<string, OpenIncident>()
  /** Incidents resolved lately (quiet or fixed), oldest first: the ones a recurrence reopens. */
  private readonly resolved = new Map<string, OpenIncident>()
  private readonly seen = new Set<string>()
  private readonly changes: ResourceChange[] = []
  private readonly windowMs: number
  private readonly quietMs: number
  private readonly reopenMs: number
  private readonly hops: number
  private readonly maxOpen: number
  private readonly maxAnomalies: number
  private readonly maxChanges: number
  /** Incidents resolved early to stay within maxOpen, not yet published. */
  private readonly closedEarly: OpenIncident[] = []
  forcedResolutions = 0

  constructor(
    private readonly graph: ServiceGraph,
    private readonly options: IncidentCorrelatorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 5 * 60_000
    this.quietMs = options.quietMs ?? 10 * 60_000
    this.reopenMs = options.reopenMs ?? 0
    this.hops = options.hops ?? 2
    this.maxOpen = options.maxOpen ?? 1_000
    this.maxAnomalies = options.maxAnomaliesPerIncident ?? 500
    this.maxChanges = options.maxChanges ?? 10_000
  }

  get openCount(): number {
    return this.open.size
  }

  observeChange(change: ResourceChange): void {
    this.changes.push(change)
    if (this.changes.length > this.maxChanges) this.changes.splice(0, this.changes.length - this.maxChanges)
    // A change just before an open incident's anomalies may be its cause: rank again.
    for (const state of this.open.values())
      if (change.ts <= state.incident.openedAt + 60_000 && change.ts >= state.incident.openedAt - 15 * 60_000)
        state.changed = true
  }

  observeAnomaly(anomaly: Anomaly): void {
    if (this.seen.has(anomaly.id)) return
    this.seen.add(anomaly.id)
    if (this.seen.size > REMEMBERED_ANOMALIES) this.seen.delete(this.seen.values().next().value as string)
    const facets = facetsOf(anomaly)
    const state = [...this.open.values()].find(
      (s) =>
        s.incident.cluster === anomaly.cluster &&
        anomaly.ts <= s.lastTs + this.windowMs &&
        this.related(s, facets),
    )
    if (state) {
      this.absorb(state, anomaly, facets)
      return
    }
    const flapped = this.recurrenceOf(anomaly, facets)
    if (flapped) {
      this.reopen(flapped)
      this.absorb(flapped, anomaly, facets)
      return
    }
    if (this.open.size >= this.maxOpen) {
      const oldest = [...this.open.values()].sort((a, b) => a.lastTs - b.lastTs)[0] as OpenIncident
      this.resolve(oldest, oldest.lastTs)
      this.closedEarly.push(oldest) // published with the next flush
      this.forcedResolutions++
    }
    const id = `inc-${createHash('sha256').update(`${anomaly.cluster}\u0000${anomaly.id}`).digest('hex').slice(0, 16)}`
    const opened: OpenIncident = {
      incident: {
        ts: anomaly.ts,
        cluster: anomaly.cluster,
        ...(anomaly.namespace !== undefined && { namespace: anomaly.namespace }),
        id,
        status: 'open',
        severity: anomaly.severity,
        title: anomaly.summary,
        openedAt: anomaly.ts,
        anomalyIds: [anomaly.id],
        entities: [anomaly.entity],
        version: 0,
      },
      anomalies: [anomaly],
      lastTs: anomaly.ts,
      nodes: new Set(),
      entityKeys: new Set(),
      hosts: new Set(),
      changed: true,
      ranking: [],
    }
    merge(opened, facets)
    this.open.set(id, opened)
  }

  /**
   * Incidents changed since the last call, as new versions with their rankings, and incidents
   * quiet since `now - quietMs`, resolved.
   */
  flush(now: number): CorrelationOutput {
    const out: CorrelationOutput = { incidents: [], rootCauses: [] }
    for (const state of this.closedEarly.splice(0)) this.emit(state, now, out)
    this.mergeRelated(now, out)
    for (const state of [...this.open.values()]) {
      if (state.changed) {
        state.ranking = rankIncidentRootCauses(
          { anomalies: state.anomalies, changes: this.changes, graph: this.graph },
          this.options.ranking,
        )
        const top = state.ranking[0]
        state.incident.title = top
          ? `${top.entity.kind}/${top.entity.name}: ${summary(state)}`
          : `${summary(state)} (cause unclear: evidence too weak to rank)`
        this.emit(state, now, out)
      }
      if (now - state.lastTs >= this.quietMs) {
        this.resolve(state, now)
        this.remember(state)
        this.emit(state, now, out)
      }
    }
    return out
  }

  /**
   * A remediation verified as working resolves its incident now, not after the quiet time
   * (published with the next flush). Unknown or closed incidents are left alone: answers whether
   * this instance held it.
   */
  resolveFixed(incidentId: string, now: number, how: string): boolean {
    const state = this.open.get(incidentId)
    if (!state) return false
    state.incident.attributes = { ...state.incident.attributes, resolvedBy: how }
    this.resolve(state, now)
    state.incident.resolvedAt = Math.max(state.lastTs, now)
    this.remember(state)
    this.closedEarly.push(state)
    return true
  }

  /**
   * A resolved incident a new anomaly brings back: its root cause failing again, soon after. A
   * symptom it shared with other problems (a frontend that slows whatever breaks behind it) is not
   * a recurrence: that is a new incident, ranked on its own.
   */
  private recurrenceOf(anomaly: Anomaly, facets: Facets): OpenIncident | undefined {
    if (this.reopenMs <= 0) return undefined
    for (const state of this.resolved.values()) {
      const resolvedAt = state.incident.resolvedAt ?? state.lastTs
      if (state.incident.cluster !== anomaly.cluster || anomaly.ts > resolvedAt + this.reopenMs) continue
      const cause = state.ranking[0]?.entity
      if (!cause) continue
      const causeNode = serviceNode(cause.namespace, cause.name)
      if (facets.entityKeys.includes(entityKey(cause)) || facets.nodes.includes(causeNode)) return state
    }
    return undefined
  }

  private remember(state: OpenIncident): void {
    // Only flap control reads them; with it off, a resolved incident and its anomalies are let go.
    if (this.reopenMs <= 0) return
    this.resolved.set(state.incident.id, state)
    if (this.resolved.size > REMEMBERED_RESOLVED)
      this.resolved.delete(this.resolved.keys().next().value as string)
  }

  private reopen(state: OpenIncident): void {
    this.resolved.delete(state.incident.id)
    // Open again: no longer resolved, by time or by a fix that did not hold.
    const { resolvedAt: _resolvedAt, attributes, ...incident } = state.incident
    const { resolvedBy: _resolvedBy, ...kept } = attributes ?? {}
    const reopened = String(Number(kept.reopened ?? 0) + 1)
    state.incident = { ...incident, status: 'open', attributes: { ...kept, reopened } }
    this.open.set(state.incident.id, state)
  }

  private resolve(state: OpenIncident, now: number): void {
    state.incident.status = 'resolved'
    state.incident.resolvedAt = Math.max(state.lastTs, Math.min(now, state.lastTs + this.quietMs))
    this.open.delete(state.incident.id)
  }

  private emit(state: OpenIncident, now: number, out: CorrelationOutput): void {
    state.changed = false
    state.incident.version++
    state.incident.ts = now
    out.incidents.push(structuredClone(state.incident))
    if (state.incident.status === 'resolved') return
    state.ranking.forEach((cause, i) =>
      out.rootCauses.push({
        ts: now,
        cluster: state.incident.cluster,
        ...(state.incident.namespace !== undefined && { namespace: state.incident.namespace }),
        incidentId: state.incident.id,
        rank: i + 1,
        entity: cause.entity,
        score: cause.score,
        explanation: cause.explanation,
        evidence: cause.evidence,
      }),
    )
  }

  /**
   * Incidents that turn out to be one: the topology that relates them (a flow edge) may arrive
   * after their anomalies did. The younger is folded into the older and closed with a pointer.
   */
  private mergeRelated(now: number, out: CorrelationOutput): void {
    const states = [...this.open.values()].sort((a, b) => a.incident.openedAt - b.incident.openedAt)
    for (let i = 0; i < states.length; i++) {
      const older = states[i] as OpenIncident
      if (!this.open.has(older.incident.id)) continue
      for (let j = i + 1; j < states.length; j++) {
        const younger = states[j] as OpenIncident
        if (!this.open.has(younger.incident.id) || younger.incident.cluster !== older.incident.cluster)
          continue
        const overlap =
          younger.incident.openedAt <= older.lastTs + this.windowMs &&
          older.incident.openedAt <= younger.lastTs + this.windowMs
        const facets = {
          nodes: [...younger.nodes],
          entityKeys: [...younger.entityKeys],
          hosts: [...younger.hosts],
        }
        if (!overlap || !this.related(older, facets)) continue
        for (const anomaly of younger.anomalies) this.absorb(older, anomaly, facetsOf(anomaly))
        younger.incident.title = `merged into ${older.incident.id}`
        this.resolve(younger, now)
        this.emit(younger, now, out)
      }
    }
  }

  /** Adds an anomaly to an open incident: its entity, severity, time and what relates it. */
  private absorb(state: OpenIncident, anomaly: Anomaly, facets: Facets): void {
    if (state.anomalies.length < this.maxAnomalies) state.anomalies.push(anomaly)
    state.lastTs = Math.max(state.lastTs, anomaly.ts)
    state.incident.openedAt = Math.min(state.incident.openedAt, anomaly.ts)
    state.incident.anomalyIds.push(anomaly.id)
    if (SEVERITY_ORDER[anomaly.severity] > SEVERITY_ORDER[state.incident.severity])
      state.incident.severity = anomaly.severity
    if (!state.entityKeys.has(entityKey(anomaly.entity))) state.incident.entities.push(anomaly.entity)
    merge(state, facets)
    state.changed = true
  }

  private related(state: OpenIncident, facets: Facets): boolean {
    if (facets.entityKeys.some((k) => state.entityKeys.has(k))) return true
    if (facets.hosts.some((h) => state.hosts.has(h))) return true
    for (const node of facets.nodes) {
      if (state.nodes.has(node)) return true
      for (const other of state.nodes) if (this.graph.near(node, other, this.hops)) return true
    }
    return false
  }
}

interface Facets {
  nodes: ServiceNode[]
  entityKeys: string[]
  hosts: string[]
}

const entityKey = (e: EntityRef): string => `${e.kind}/${e.namespace ?? ''}/${e.name}`

/** What an anomaly can relate by: its entity, its workload or service (a graph node), its host. */
function facetsOf(a: Anomaly): Facets {
  const hosts: string[] = []
  if (a.node) hosts.push(a.node)
  if (a.entity.kind === 'Node') hosts.push(a.entity.name)
  return { nodes: serviceNodesOf(a), entityKeys: [entityKey(a.entity)], hosts }
}

function merge(state: OpenIncident, facets: Facets): void {
  for (const n of facets.nodes) state.nodes.add(n)
  for (const k of facets.entityKeys) state.entityKeys.add(k)
  for (const h of facets.hosts) state.hosts.add(h)
}

function summary(state: OpenIncident): string {
  const kinds = [...new Set(state.anomalies.map((a) => a.kind.replace(/_/g, ' ')))]
  const entities = state.incident.entities.length
  return `${kinds.slice(0, 3).join(', ')}${kinds.length > 3 ? ', ...' : ''} on ${entities} entit${entities === 1 ? 'y' : 'ies'}`
}
