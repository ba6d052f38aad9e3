import type { EntityRef } from '../core/index.js'

export const FAULT_KINDS = [
  'cpu_hog',
  'memory_leak',
  'bad_release',
  'slow_database',
  'network_policy_deny',
  'node_pressure',
  'crashloop_after_config',
  'traffic_surge',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** What a scenario did, recorded when it was injected: what an analysis should find. */
export interface GroundTruth {
  fault: FaultKind
  rootCause: EntityRef
  /** Services whose telemetry the fault shows up in, the root's service first. */
  affectedServices: string[]
  startTs: number
  endTs: number
  description: string
}

/** The service each fault hits when none is named: picked so the fault propagates to callers. */
export const DEFAULT_TARGETS: Record<FaultKind, string> = {
  cpu_hog: 'recommendation',
  memory_leak: 'cart',
  bad_release: 'checkout',
  slow_database: 'database',
  network_policy_deny: 'payment',
  node_pressure: 'node-2',
  crashloop_after_config: 'catalog',
  traffic_surge: 'frontend',
}

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value)
}
