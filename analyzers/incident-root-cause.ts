import type { Anomaly, EntityRef, Evidence, ResourceChange } from '../core/index.js'
import { serviceNode, type ServiceGraph, type ServiceNode } from './service-graph.js'

export interface RankedRootCause {
  entity: EntityRef
  /** In [0, 1]; comparable within one incident's ranking. */
  score: number
  explanation: string
  evidence: Evidence[]
}

export interface IncidentRankingInput {
  anomalies: readonly Anomaly[]
  /** Recent changes in the cluster; those shortly before the incident's onset are candidates. */
  changes: readonly ResourceChange[]
  graph: ServiceGraph
}

export interface IncidentRankingOptions {
  /** A change counts when made this long before the first anomaly at most (default 15 min). */
  changeLookbackMs?: number
  /** The strongest anomaly must score at least this for any answer (default 0.8). */
  minEvidence?: number
  /** Entries returned at most (default 5). */
  limit?: number
}

interface Candidate {
  key: string
  entity: EntityRef
  /** The workload (graph node) it belongs to, when it has one. */
  node?: ServiceNode
  anomalies: Anomaly[]
  strength: number
  onset: number
  changes: ResourceChange[]
  score: number
  /** For changes: the workload candidates they explain. */
  explains?: Candidate[]
}

const SEVERITY_WEIGHT = { info: 0.5, warning: 0.8, critical: 1 } as const
/**
 * Symptoms that point away from where they are seen: traffic that stopped reaching a service says
 * its callers stopped calling; a kernel OOM kill reported on a node is a container's limit, not the
 * node.
 */
const KIND_WEIGHT: Record<string, number> = { traffic_stopped: 0.4, oom_killed: 0.9 }
/** Node anomalies that make a node a cause for its pods' workloads. */
const NODE_FAULTS = new Set(['node_pressure', 'node_not_ready', 'network_not_ready', 'evicted'])
const WORKLOAD_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Service',
])
/** Changes that can break what runs: rollouts, config edits, new or edited policies and objects. */
const CAUSAL_CHANGES = new Set(['rollout', 'config', 'create', 'update', 'delete'])
/** Restart probability of the random walk: how much a node's own anomaly counts against where blame flows. */
const RESTART = 0.15
const WALK_ROUNDS = 60
/** A request surge counts as the origin only when it is among the first anomalies. */
const SURGE_FIRST_MS = 30_000

/**
 * Ranks an incident's root-cause candidates: the workloads, pods and nodes its anomalies are on,
 * and the changes made shortly before it began. Each candidate's score combines
 * - how strong and severe its own anomalies are;
 * - where blame flows on the service graph: a personalised random walk from each anomalous
 *   service to the anomalous services it calls (and from pods' workloads to an anomalous node), so
 *   the deepest anomalous dependency collects the most;
 * - onset order: what went wrong first;
 * - changes: a rollout of the workload, or a change whose object names it (a ConfigMap, a
 *   NetworkPolicy), made just before onset, explains the anomalies; an earlier change in a chain
 *   (config, then the rollout it triggered) explains the later one.
 * A single pod is the suspect when it is its workload's only anomalous pod; when several are, the
 * workload is. With no strong anomaly the answer is empty rather than a guess.
 */
export function rankIncidentRootCauses(
  input: IncidentRankingInput,
  options: IncidentRankingOptions = {},
): RankedRootCause[] {
  const lookback = options.changeLookbackMs ?? 15 * 60_000
  const minEvidence = options.minEvidence ?? 0.8
  if (input.anomalies.length === 0) return []
  if (Math.max(...input.anomalies.map((a) => a.score)) < minEvidence) return []

  const candidates = new Map<string, Candidate>()
  const candidate = (key: string, entity: EntityRef, node?: ServiceNode): Candidate => {
    let c = candidates.get(key)
    if (!c) {
      c = { key, entity, anomalies: [], strength: 0, onset: Infinity, changes: [], score: 0 }
      if (node !== undefined) c.node = node
      candidates.set(key, c)
    }
    return c
  }
  const add = (c: Candidate, a: Anomaly): void => {
    c.anomalies.push(a)
    c.strength = Math.max(c.strength, a.score * SEVERITY_WEIGHT[a.severity] * (KIND_WEIGHT[a.kind] ?? 1))
    c.onset = Math.min(c.onset, a.ts)
  }
  const workloadKinds = new Map<string, string>()
  for (const a of input.anomalies)
    if (a.workload) workloadKinds.set(serviceNode(a.namespace, a.workload.name), a.workload.kind)
  const workloadCandidate = (namespace: string | undefined, name: string): Candidate => {
    const node = serviceNode(namespace, name)
    const kind = workloadKinds.get(node) ?? 'Service'
    return candidate(`W:${node}`, { kind, name, ...(namespace !== undefined && { namespace }) }, node)
  }

  // Anomalies onto candidates: pods also count for their workload; nodes stand alone.
  /** Anomalous pods' candidate keys per workload. */
  const podsByWorkload = new Map<ServiceNode, Set<string>>()
  const podNode = new Map<string, string>()
  for (const a of input.anomalies) {
    const { kind, name, namespace } = a.entity
    if (kind === 'Node') add(candidate(`N:${name}`, { kind: 'Node', name }), a)
    else if (kind === 'Pod') {
      const workload = a.workload ? workloadCandidate(namespace, a.workload.name) : undefined
      const pod = candidate(`P:${namespace ?? ''}/${name}`, a.entity, workload?.node)
      add(pod, a)
      if (workload) {
        add(workload, a)
        const pods = podsByWorkload.get(workload.node as ServiceNode) ?? new Set()
        pods.add(pod.key)
        podsByWorkload.set(workload.node as ServiceNode, pods)
      }
      if (a.node) podNode.set(pod.key, a.node)
    } else if (WORKLOAD_KINDS.has(kind)) add(workloadCandidate(namespace, a.service ?? name), a)
    else add(candidate(`E:${kind}/${namespace ?? ''}/${name}`, a.entity), a)
  }

  // Blame flows along the graph: caller -> anomalous callee, workload -> its pods' anomalous node.
  const anomalous = [...candidates.values()].filter((c) => c.strength > 0)
  const start = Math.min(...anomalous.map((c) => c.onset))
  const end = Math.max(...anomalous.map((c) => c.onset))
  const byNode = new Map(
    anomalous.filter((c) => c.key.startsWith('W:')).map((c) => [c.node as ServiceNode, c]),
  )
  /** The node hosting an anomalous pod, when that node itself is at fault (pressure, not ready). */
  const faultyHost = (podKey: string): Candidate | undefined => {
    const host = candidates.get(`N:${podNode.get(podKey) ?? ''}`)
    return host && isNodeFault(host) ? host : undefined
  }
  const next = new Map<Candidate, Candidate[]>()
  for (const c of anomalous) {
    const targets = new Set<Candidate>()
    if (c.key.startsWith('W:')) {
      for (const callee of input.graph.callees(c.node as ServiceNode)) {
        const target = byNode.get(callee)
        if (target) targets.add(target)
      }
      for (const podKey of podsByWorkload.get(c.node as ServiceNode) ?? []) {
        const host = faultyHost(podKey)
        if (host) targets.add(host)
      }
    }
    if (c.key.startsWith('P:')) {
      const host = faultyHost(c.key)
      if (host) targets.add(host)
    }
    next.set(c, [...targets])
  }
  const walk = randomWalk(anomalous, next)

  // Own score: strength, blame, onset order.
  const maxWalk = Math.max(...walk.values(), 1e-12)
  for (const c of anomalous) {
    const onsetScore = end > start ? 1 - (c.onset - start) / (end - start) : 1
    c.score = 0.4 * c.strength + 0.4 * ((walk.get(c) ?? 0) / maxWalk) + 0.2 * onsetScore
  }
  // A surge of requests that no anomalous caller passed on starts here: it explains the load below.
  const surgeOrigins = new Set<Candidate>()
  for (const c of anomalous) {
    // Only a surge that came first: load moving after pods were evicted or restarted is a consequence.
    if (!c.key.startsWith('W:') || !isSurge(c) || surgeOnset(c) > start + SURGE_FIRST_MS) continue
    const fedByCaller = [...input.graph.callers(c.node as ServiceNode)].some((n) => {
      const caller = byNode.get(n)
      return caller !== undefined && isSurge(caller)
    })
    if (fedByCaller) continue
    c.score += 0.5
    surgeOrigins.add(c)
  }
  // One pod stands out: it, not its workload, is the suspect; several: the workload.
  for (const c of anomalous) {
    if (!c.key.startsWith('P:') || c.node === undefined) continue
    const anomalousPods = podsByWorkload.get(c.node)?.size ?? 0
    const livePods = Math.max(0, ...c.anomalies.map((a) => Number(a.attributes?.workloadPods ?? 0)))
    const workload = byNode.get(c.node)
    // The only anomalous pod of several (or of an unknown number): the pod. Of one: the workload.
    // Under a surge every pod is loaded; the one that crossed a threshold first is not the cause.
    if (anomalousPods === 1 && livePods !== 1 && workload && !surgeOrigins.has(workload))
      c.score = Math.max(c.score, workload.score * 1.02)
    else c.score *= 0.5
  }

  // A node under pressure (or not ready) explains the anomalous pods it hosts and their workloads,
  // as a change explains what it touched.
  for (const node of anomalous) {
    if (!node.key.startsWith('N:') || !isNodeFault(node)) continue
    // The workloads whose anomalous pods it hosts: those the walk already sends to it.
    const explained = [...byNode.values()].filter((w) => next.get(w)?.includes(node))
    if (explained.length > 0)
      node.score = Math.max(node.score, Math.max(...explained.map((w) => w.score)) * 1.02)
  }

  // Changes shortly before onset, linked to the anomalous workloads they touch or name.
  const changes = input.changes
    .filter((ch) => CAUSAL_CHANGES.has(ch.changeKind) && ch.ts >= start - lookback && ch.ts <= start + 60_000)
    .sort((a, b) => a.ts - b.ts)
  const workloads = anomalous.filter((c) => c.key.startsWith('W:'))
  const changeCandidates: Candidate[] = []
  for (const change of changes) {
    const touched = workloads.filter((w) => linked(change, w.entity))
    // What it touches also fails its callers (a policy denying traffic into a service, a broken
    // config): the anomalous workloads calling a touched one, anomalous or not, are explained too.
    const callersHit = workloads.filter(
      (w) =>
        !touched.includes(w) &&
        [...input.graph.callees(w.node as ServiceNode)].some((callee) => {
          const [namespace, name] = splitNode(callee)
          return linked(change, { kind: 'Service', name, ...(namespace && { namespace }) })
        }),
    )
    if (touched.length === 0 && callersHit.length === 0) continue
    const proximity = 1 - Math.max(0, start - change.ts) / lookback
    if (change.workload && touched.some((w) => w.entity.name === change.workload?.name)) {
      // A rollout or scale of the workload itself: the workload is the suspect, with this evidence.
      const self = touched.find((w) => w.entity.name === change.workload?.name) as Candidate
      self.changes.push(change)
      self.score += 0.3 * proximity
      continue
    }
    const { kind, name, namespace } = change.resource
    const c = candidate(`C:${kind}/${namespace ?? ''}/${name}`, {
      kind,
      name,
      ...(namespace !== undefined && { namespace }),
    })
    c.changes.push(change)
    c.onset = Math.min(c.onset, change.ts)
    c.explains = [...touched, ...callersHit]
    changeCandidates.push(c)
  }
  // A change explains the workloads it touches: it ranks just above the best of them (after their
  // own change boosts), and an earlier change above a later one it may have caused.
  changeCandidates.forEach((c, order) => {
    const best = Math.max(...(c.explains ?? []).map((w) => w.score))
    const proximity = 1 - Math.max(0, start - c.onset) / lookback
    c.score = best * (1.02 + 0.01 * (changeCandidates.length - order)) * (0.8 + 0.2 * proximity)
  })

  const ranked = [...anomalous, ...changeCandidates]
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.onset - b.onset)
    .slice(0, options.limit ?? 5)
  // Scores are relative within the incident: the best candidate's evidence strength is its score.
  const scale = (ranked[0]?.strength || 1) / (ranked[0]?.score || 1)
  return ranked.map((c) => ({
    entity: c.entity,
    score: Number(Math.min(1, c.score * scale).toFixed(4)),
    explanation: explain(c, start),
    evidence: evidenceOf(c),
  }))
}

function isNodeFault(node: Candidate): boolean {
  return node.anomalies.some((a) => NODE_FAULTS.has(a.kind))
}

function surgeOnset(c: Candidate): number {
  return Math.min(
    ...c.anomalies
      .filter((a) => a.attributes?.indicator === 'request_rate' && a.attributes.movement === 'up')
      .map((a) => a.ts),
  )
}

function isSurge(c: Candidate): boolean {
  return c.anomalies.some((a) => a.attributes?.indicator === 'request_rate' && a.attributes.movement === 'up')
}

/** A personalised random walk: blame moves from each candidate to the candidates it points at. */
function randomWalk(
  nodes: readonly Candidate[],
  next: ReadonlyMap<Candidate, Candidate[]>,
): Map<Candidate, number> {
  const total = nodes.reduce((sum, c) => sum + c.strength, 0) || 1
  const restart = new Map(nodes.map((c) => [c, c.strength / total]))
  let rank = new Map(restart)
  for (let round = 0; round < WALK_ROUNDS; round++) {
    const moved = new Map(nodes.map((c) => [c, RESTART * (restart.get(c) ?? 0)]))
    for (const c of nodes) {
      const mass = (1 - RESTART) * (rank.get(c) ?? 0)
      const targets = next.get(c) ?? []
      const weight = targets.reduce((sum, t) => sum + t.strength, 0)
      if (targets.length === 0 || weight === 0) moved.set(c, (moved.get(c) ?? 0) + mass)
      else for (const t of targets) moved.set(t, (moved.get(t) ?? 0) + (mass * t.strength) / weight)
    }
    rank = moved
  }
  return rank
}

/** Whether a change concerns a workload: it is the workload, or its object's name contains the workload's. */
function linked(change: ResourceChange, workload: EntityRef): boolean {
  const namespace = change.resource.namespace ?? change.namespace
  if (namespace !== undefined && workload.namespace !== undefined && namespace !== workload.namespace)
    return false
  if (change.workload?.name === workload.name) return true
  const tokens = new Set(change.resource.name.split(/[-_.]/))
  const wanted = workload.name.split(/[-_.]/)
  return wanted.every((t) => tokens.has(t))
}

function splitNode(node: ServiceNode): [string, string] {
  const at = node.indexOf('/')
  return [node.slice(0, at), node.slice(at + 1)]
}

function explain(c: Candidate, start: number): string {
  const what = `${c.entity.kind}/${c.entity.name}`
  const change = c.changes[0]
  if (c.key.startsWith('C:') && change) {
    const explained = (c.explains ?? []).map((w) => w.entity.name).join(', ')
    return `${what} was changed (${change.changeKind}${change.actor ? ` by ${change.actor}` : ''}) ${ago(start - change.ts)} before the first anomaly; ${explained} went wrong after it`
  }
  const kinds = [...new Set(c.anomalies.map((a) => a.kind))].join(', ')
  const first =
    c.onset === start ? 'first to go wrong' : `went wrong ${ago(c.onset - start)} after the first anomaly`
  const rollout = change
    ? `; ${change.changeKind} ${ago(Math.max(0, start - change.ts))} before onset${change.images?.[0]?.to ? ` to ${change.images[0].to}` : ''}`
    : ''
  return `${what}: ${kinds} (${c.anomalies.length} anomal${c.anomalies.length === 1 ? 'y' : 'ies'}), ${first}${rollout}`
}

function evidenceOf(c: Candidate): Evidence[] {
  const evidence: Evidence[] = c.changes.map((ch) => ({
    signal: 'change' as const,
    ts: ch.ts,
    description: `${ch.changeKind} of ${ch.resource.kind}/${ch.resource.name}${ch.images?.[0]?.to ? ` to ${ch.images[0].to}` : ''}${ch.diff?.[0] ? ` (${ch.diff[0].path}: ${ch.diff[0].from ?? ''} -> ${ch.diff[0].to ?? ''})` : ''}`,
  }))
  for (const a of [...c.anomalies].sort((x, y) => y.score - x.score).slice(0, 5)) {
    const first = a.evidence[0]
    evidence.push({
      signal: a.signal,
      ts: a.ts,
      description: a.summary,
      refId: a.id,
      ...(first?.metric !== undefined && { metric: first.metric }),
      ...(first?.observed !== undefined && { observed: first.observed }),
      ...(first?.expected !== undefined && { expected: first.expected }),
      ...(first?.baselineFromTs !== undefined && { baselineFromTs: first.baselineFromTs }),
      ...(first?.baselineToTs !== undefined && { baselineToTs: first.baselineToTs }),
    })
  }
  return evidence
}

const ago = (ms: number): string =>
  ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`
