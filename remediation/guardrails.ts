import type { ActionKind } from '../core/index.js'

/** At most `max` actions in any `perMs` window. */
export interface ActionRateLimit {
  max: number
  perMs: number
}

/** What holds for every action, whatever the policy. */
export interface GlobalGuardrails {
  /** Dry-run unless set to enforce: actions are decided and recorded, nothing changes. */
  mode: 'dry-run' | 'enforce'
  /** Stops every action at once (configuration, or the API at run time). */
  killSwitch: boolean
  /** Namespaces actions may touch; empty: all but `deny` (and kube-system unless allowed). */
  allowNamespaces: readonly string[]
  denyNamespaces: readonly string[]
  rateLimit: ActionRateLimit
}

/** One policy's limits. */
export interface PolicyGuardrails {
  name: string
  dryRun: boolean
  requireApproval: boolean
  /** No second action on one target within this time of the last. */
  cooldownMs: number
  rateLimit: ActionRateLimit
  minReplicas: number
  maxReplicas: number
  /** Replicas added or removed by one action at most. */
  maxStep: number
  /** Share of a workload's pods one action may take away at once (deleted, or scaled in), in percent. */
  blastRadiusPercent: number
}

export interface ActionTarget {
  kind: string
  namespace: string
  name: string
}

/** An action a policy asks for, with what the decision needs to know of its target now. */
export interface ProposedAction {
  policy: PolicyGuardrails
  kind: ActionKind
  target: ActionTarget
  /** Scale actions: replicas now and wanted. */
  currentReplicas?: number
  desiredReplicas?: number
  /** Pod deletion: pods it would delete, and the workload's pods. */
  podsAffected?: number
  totalPods?: number
  /** Set when a person approved this action (through the API). */
  approvedBy?: string
}

export type Verdict = 'execute' | 'dry_run' | 'skip' | 'await_approval'

export interface Decision {
  verdict: Verdict
  /** Why, in words an operator reads in the audit log and in chat. */
  reason: string
  /** Scale actions: the replicas to set, within the policy's bounds and step. */
  replicas?: number
}

/** Actions that change nothing in the cluster and pass every guardrail. */
const HARMLESS: ReadonlySet<ActionKind> = new Set(['notify'])

/**
 * The guardrails every remediation passes, in one place and free of I/O, so that a property test
 * can drive it with any sequence of incidents: kill switch, namespaces, approvals, cooldown per
 * target, rate limits (global and per policy), replica bounds and step, blast radius, and dry-run.
 * A dry-run decision counts like an executed one, so the audit of a dry-run policy shows what
 * enforcing it would have done, limits included.
 */
export class Guardrails {
  private readonly lastActionAt = new Map<string, number>()
  private readonly globalTimes: number[] = []
  private readonly policyTimes = new Map<string, number[]>()

  constructor(private config: GlobalGuardrails) {}

  get settings(): Readonly<GlobalGuardrails> {
    return this.config
  }

  setKillSwitch(on: boolean): void {
    this.config = { ...this.config, killSwitch: on }
  }

  decide(action: ProposedAction, now: number): Decision {
    const { policy, target } = action
    if (this.config.killSwitch) return skip('the kill switch is on: no action runs')
    if (HARMLESS.has(action.kind)) return { verdict: 'execute', reason: 'notification only' }
    const namespaceRefusal = this.namespaceRefusal(target.namespace)
    if (namespaceRefusal) return skip(namespaceRefusal)

    const key = targetKey(target)
    const last = this.lastActionAt.get(key)
    if (last !== undefined && now - last < policy.cooldownMs)
      return skip(
        `cooldown: ${target.kind}/${target.name} was acted on ${seconds(now - last)} ago (cooldown ${seconds(policy.cooldownMs)})`,
      )
    if (count(this.globalTimes, now, this.config.rateLimit.perMs) >= this.config.rateLimit.max)
      return skip(
        `global rate limit: ${this.config.rateLimit.max} actions per ${seconds(this.config.rateLimit.perMs)} reached`,
      )
    if (count(this.policyTimes.get(policy.name) ?? [], now, policy.rateLimit.perMs) >= policy.rateLimit.max)
      return skip(
        `policy ${policy.name} rate limit: ${policy.rateLimit.max} actions per ${seconds(policy.rateLimit.perMs)} reached`,
      )

    let replicas: number | undefined
    if (action.kind === 'scale') {
      const current = action.currentReplicas
      const desired = action.desiredReplicas
      if (current === undefined || desired === undefined)
        return skip('scale needs the current and the wanted replicas')
      const bounded = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, desired))
      const stepped = current + clamp(bounded - current, -policy.maxStep, policy.maxStep)
      // Scaling in removes pods: at most the blast radius of them at once.
      const mostRemoved = Math.floor((current * policy.blastRadiusPercent) / 100)
      replicas = Math.max(stepped, current - mostRemoved)
      if (replicas === current)
        return skip(
          desired === current
            ? `${target.kind}/${target.name} already has ${current} replicas`
            : `${target.kind}/${target.name} stays at ${current}: bounds ${policy.minReplicas}..${policy.maxReplicas}, step ${policy.maxStep}, blast radius ${policy.blastRadiusPercent}%`,
        )
    }
    if (action.kind === 'delete_pod') {
      const affected = action.podsAffected ?? 1
      const total = action.totalPods ?? 0
      if (total <= 0 || (affected * 100) / total > policy.blastRadiusPercent)
        return skip(
          `blast radius: deleting ${affected} of ${total} pods is over ${policy.blastRadiusPercent}% of the workload`,
        )
    }

    if (policy.requireApproval && !action.approvedBy)
      return {
        verdict: 'await_approval',
        reason: `policy ${policy.name} needs approval`,
        ...withReplicas(replicas),
      }
    const dryRun = this.config.mode === 'dry-run' || policy.dryRun
    this.count(key, policy, now)
    return {
      verdict: dryRun ? 'dry_run' : 'execute',
      reason: dryRun
        ? this.config.mode === 'dry-run'
          ? 'dry-run: remediation is not enforced (mode dry-run)'
          : `dry-run: policy ${policy.name} is in dry-run`
        : action.approvedBy
          ? `approved by ${action.approvedBy}`
          : `policy ${policy.name}`,
      ...withReplicas(replicas),
    }
  }

  private namespaceRefusal(namespace: string): string | undefined {
    if (this.config.denyNamespaces.includes(namespace)) return `namespace ${namespace} is denied`
    const allow = this.config.allowNamespaces
    if (allow.length > 0 && !allow.includes(namespace))
      return `namespace ${namespace} is not in the allow list`
    if (namespace === 'kube-system' && !allow.includes('kube-system'))
      return 'namespace kube-system is excluded unless allowed'
    return undefined
  }

  private count(key: string, policy: PolicyGuardrails, now: number): void {
    this.lastActionAt.set(key, now)
    push(this.globalTimes, now, this.config.rateLimit.perMs)
    const times = this.policyTimes.get(policy.name) ?? []
    push(times, now, policy.rateLimit.perMs)
    this.policyTimes.set(policy.name, times)
    // Bounded: a target not acted on for a day is forgotten (no cooldown is that long).
    if (this.lastActionAt.size > 10_000)
      for (const [k, at] of this.lastActionAt) if (now - at > 86_400_000) this.lastActionAt.delete(k)
  }
}

function skip(reason: string): Decision {
  return { verdict: 'skip', reason }
}

function withReplicas(replicas: number | undefined): { replicas?: number } {
  return replicas === undefined ? {} : { replicas }
}

const targetKey = (t: ActionTarget): string => `${t.kind}/${t.namespace}/${t.name}`

const clamp = (x: number, low: number, high: number): number => Math.min(high, Math.max(low, x))

/** Actions in the window ending now (the times are kept sorted). */
function count(times: readonly number[], now: number, windowMs: number): number {
  let n = 0
  for (let i = times.length - 1; i >= 0 && now - (times[i] as number) < windowMs; i--) n++
  return n
}

/** Appends a time, dropping those its window will not count again. */
function push(times: number[], now: number, windowMs: number): void {
  times.push(now)
  while (times.length > 0 && now - (times[0] as number) >= windowMs) times.shift()
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`
}
