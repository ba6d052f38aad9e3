import { workloadOfAggregatedName, type Anomaly, type NetworkFlow } from '../core/index.js'

/** A node of the service graph: a workload in a namespace (`namespace/name`). */
export type ServiceNode = string

export const serviceNode = (namespace: string | undefined, name: string): ServiceNode =>
  `${namespace ?? ''}/${name}`

/** The graph nodes an anomaly concerns: its workload, its service, and its entity when that is a workload or service. */
export function serviceNodesOf(a: Anomaly): ServiceNode[] {
  const nodes: ServiceNode[] = []
  if (a.workload) nodes.push(serviceNode(a.namespace, a.workload.name))
  if (a.service) nodes.push(serviceNode(a.namespace, a.service))
  if (a.entity.kind !== 'Pod' && a.entity.kind !== 'Node')
    nodes.push(serviceNode(a.entity.namespace ?? a.namespace, a.entity.name))
  return [...new Set(nodes)]
}

export interface ServiceGraphOptions {
  /** Edges kept at most; the least recently seen go first. */
  maxEdges?: number
}

/**
 * Who calls whom, learned from the flows Calico reports (or added from a given call graph): the
 * topology root-cause ranking walks. Endpoints are workloads, not pods or ReplicaSets, so the graph
 * outlives rollouts and rescheduling.
 */
export class ServiceGraph {
  private readonly calleesOf = new Map<ServiceNode, Set<ServiceNode>>()
  private readonly callersOf = new Map<ServiceNode, Set<ServiceNode>>()
  /** Edge keys in least-recently-seen order, for the bound. */
  private readonly edges = new Map<string, [ServiceNode, ServiceNode]>()
  private readonly maxEdges: number

  constructor(options: ServiceGraphOptions = {}) {
    this.maxEdges = options.maxEdges ?? 100_000
  }

  observeFlow(flow: NetworkFlow): void {
    if (flow.source.type === 'net' || flow.destination.type === 'net') return // outside the cluster
    this.addCall(
      serviceNode(flow.source.namespace, workloadOfAggregatedName(flow.source.aggregatedName)),
      serviceNode(flow.destination.namespace, workloadOfAggregatedName(flow.destination.aggregatedName)),
    )
  }

  addCall(caller: ServiceNode, callee: ServiceNode): void {
    if (caller === callee) return
    const key = `${caller}>${callee}`
    if (this.edges.has(key)) {
      this.edges.delete(key)
      this.edges.set(key, [caller, callee])
      return
    }
    if (this.edges.size >= this.maxEdges) {
      const [oldest, pair] = this.edges.entries().next().value as [string, [ServiceNode, ServiceNode]]
      this.edges.delete(oldest)
      this.calleesOf.get(pair[0])?.delete(pair[1])
      this.callersOf.get(pair[1])?.delete(pair[0])
    }
    this.edges.set(key, [caller, callee])
    if (!this.calleesOf.has(caller)) this.calleesOf.set(caller, new Set())
    if (!this.callersOf.has(callee)) this.callersOf.set(callee, new Set())
    this.calleesOf.get(caller)?.add(callee)
    this.callersOf.get(callee)?.add(caller)
  }

  callees(node: ServiceNode): ReadonlySet<ServiceNode> {
    return this.calleesOf.get(node) ?? EMPTY
  }

  callers(node: ServiceNode): ReadonlySet<ServiceNode> {
    return this.callersOf.get(node) ?? EMPTY
  }

  /** Whether two nodes are within `hops` calls of each other, either way. */
  near(a: ServiceNode, b: ServiceNode, hops = 2): boolean {
    if (a === b) return true
    let frontier = new Set([a])
    const seen = new Set([a])
    for (let h = 0; h < hops; h++) {
      const next = new Set<ServiceNode>()
      for (const node of frontier)
        for (const neighbour of [...this.callees(node), ...this.callers(node)]) {
          if (neighbour === b) return true
          if (!seen.has(neighbour)) {
            seen.add(neighbour)
            next.add(neighbour)
          }
        }
      frontier = next
    }
    return false
  }

  get edgeCount(): number {
    return this.edges.size
  }
}

const EMPTY: ReadonlySet<ServiceNode> = new Set()
