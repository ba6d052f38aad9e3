import { createHash, randomUUID } from 'node:crypto'
import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  errorMessage,
  type Action,
  type Anomaly,
  type Component,
  type Incident,
  type Logger,
  type Registry,
  type RemediationCommand,
  type RootCause,
  type WorkloadForecast,
} from '../core/index.js'
import type { WorkloadTarget } from '../kube/index.js'
import { Guardrails, type Decision, type ProposedAction } from './guardrails.js'
import type { RemediationExecutor } from './kube-executor.js'
import type { Policy, RemediationConfig } from './policy-config.js'
import { createAutoscaler } from './autoscaler.js'

export interface RemediatorOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  config: RemediationConfig
  executor: RemediationExecutor
  now?: () => number
  group?: string
}

interface IncidentState {
  incident: Incident
  causes: RootCause[]
  policy?: Policy
  /** The policy step to try next, and whether it was tried for this incident already. */
  step: number
  acting: boolean
  tried: Set<number>
}

interface Pending {
  proposal: ProposedAction
  state: IncidentState
  step: number
  action: Action
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet'])
const MAX_INCIDENTS = 10_000
const MAX_ANOMALIES = 50_000

/**
 * The remediation loop: each open incident whose top root cause a policy matches gets the
 * policy's first action, through the guardrails (dry-run unless enforced, approvals, limits); an
 * action that changed something is verified after the policy's `verify` time, and if the target
 * still goes wrong the next action of the policy follows. Every decision is published to the
 * actions topic (stored, and told in chat), keyed like incidents.
 */
export function createRemediator(options: RemediatorOptions): Component & {
  readonly guardrails: Guardrails
  command(command: RemediationCommand): Promise<void>
} {
  const logger = options.logger.child({ component: 'remediator' })
  const now = options.now ?? Date.now
  const guardrails = new Guardrails(options.config.guardrails)
  const incidents = new Map<string, IncidentState>()
  const anomalies = new Map<string, Anomaly>()
  /**
   * Anomalies an undecided incident names but this instance has not seen yet (they travel on their
   * own subscription and may arrive after the incident): the incident is considered again then.
   */
  const awaited = new Map<string, string>()
  const pending = new Map<string, Pending>()
  const timers = new Set<NodeJS.Timeout>()
  const decisions = counter(
    options.metrics,
    'argus_remediation_decisions_total',
    'Remediation decisions, by policy and status',
    ['policy', 'status'],
  )
  let subscription: Subscription | undefined
  let context: Subscription | undefined
  let chain: Promise<void> = Promise.resolve()
  const autoscaler =
    options.config.autoscaling.length > 0
      ? createAutoscaler({
          policies: options.config.autoscaling,
          guardrails,
          executor: options.executor,
          publish: (action) => publish(action),
          now,
        })
      : undefined
  let autoscaleTimer: NodeJS.Timeout | undefined

  /** Runs work one piece at a time, in order; a failure is logged and the next piece still runs. */
  function enqueue(work: () => Promise<void>, failure: string): void {
    chain = chain
      .then(work)
      .catch((error: unknown) => logger.warn({ err: error, reason: errorMessage(error) }, failure))
  }

  async function publish(action: Action): Promise<void> {
    decisions.inc({ policy: action.policy ?? '', status: action.status })
    logger.info(
      {
        action: action.id,
        policy: action.policy,
        kind: action.kind,
        target: action.target,
        status: action.status,
        reason: action.reason,
      },
      `remediation ${action.status}: ${action.kind} ${action.target.kind}/${action.target.name}`,
    )
    await options.bus.publish(TOPICS.actions, [
      { key: `${action.cluster}/${action.incidentId ?? ''}`, value: action },
    ])
  }

  /** Undecided for want of anomalies not seen yet: look again when they arrive. */
  function awaitAnomalies(state: IncidentState): void {
    for (const id of state.incident.anomalyIds)
      if (!anomalies.has(id)) {
        awaited.set(id, state.incident.id)
        if (awaited.size > MAX_ANOMALIES) awaited.delete(awaited.keys().next().value as string)
      }
  }

  /** The workload the top root cause names, directly or through its pod. */
  function targetOf(cause: RootCause): (WorkloadTarget & { pod?: string }) | undefined {
    const { kind, name, namespace } = cause.entity
    if (!namespace) return undefined
    if (WORKLOAD_KINDS.has(kind)) return { kind: kind as WorkloadTarget['kind'], namespace, name }
    if (kind === 'Pod') {
      const owner = [...anomalies.values()].find((a) => a.pod === name && a.workload)?.workload
      if (owner && WORKLOAD_KINDS.has(owner.kind))
        return { kind: owner.kind as WorkloadTarget['kind'], namespace, name: owner.name, pod: name }
    }
    return undefined
  }

  async function matches(policy: Policy, state: IncidentState, target: WorkloadTarget): Promise<boolean> {
    const m = policy.match
    const cause = state.causes[0] as RootCause
    if (m.severity && !m.severity.includes(state.incident.severity)) return false
    if (m.rootCauseKinds && !m.rootCauseKinds.includes(cause.entity.kind)) return false
    if (m.namespaces && !m.namespaces.includes(target.namespace)) return false
    if (m.names && !m.names.test(target.name)) return false
    if (m.anomalyKinds) {
      const kinds = state.incident.anomalyIds.map((id) => anomalies.get(id)?.kind)
      if (!kinds.some((k) => k !== undefined && m.anomalyKinds?.includes(k))) return false
    }
    if (m.labels) {
      const labels = await options.executor.labels(target)
      if (!Object.entries(m.labels).every(([k, v]) => labels[k] === v)) return false
    }
    return true
  }

  async function consider(state: IncidentState): Promise<void> {
    if (state.incident.status !== 'open' || state.acting) return
    const cause = state.causes[0]
    if (!cause) return
    const target = targetOf(cause)
    if (!target) return awaitAnomalies(state)
    if (!state.policy) {
      for (const policy of options.config.policies)
        if (await matches(policy, state, target)) {
          state.policy = policy
          break
        }
      if (!state.policy) return awaitAnomalies(state)
    }
    const policy = state.policy
    const stepIndex = state.step
    const step = policy.steps[stepIndex]
    if (!step || state.tried.has(stepIndex)) return
    state.tried.add(stepIndex)
    const proposal: ProposedAction = { policy: policy.guardrails, kind: step.kind, target }
    if (step.kind === 'scale') {
      const current = await options.executor.replicas(target)
      proposal.currentReplicas = current
      proposal.desiredReplicas = step.replicas ?? current + (step.by ?? 1)
    }
    if (step.kind === 'delete_pod') {
      proposal.podsAffected = 1
      proposal.totalPods = await options.executor.replicas(target)
    }
    const action = actionRecord(state, policy, stepIndex, target)
    await decideAndRun(proposal, state, stepIndex, action)
  }

  async function decideAndRun(
    proposal: ProposedAction,
    state: IncidentState,
    stepIndex: number,
    action: Action,
  ): Promise<void> {
    const decision: Decision = guardrails.decide(proposal, now())
    const params = {
      ...action.params,
      ...(decision.replicas !== undefined && { replicas: String(decision.replicas) }),
    }
    if (decision.verdict === 'skip')
      return publish({ ...action, ts: now(), params, status: 'skipped', reason: decision.reason })
    if (decision.verdict === 'await_approval') {
      const waiting = {
        ...action,
        ts: now(),
        params,
        status: 'pending_approval' as const,
        reason: decision.reason,
      }
      pending.set(action.id, { proposal, state, step: stepIndex, action: waiting })
      return publish(waiting)
    }
    const dryRun = decision.verdict === 'dry_run'
    const step = state.policy?.steps[stepIndex]
    if (!step) return
    if (step.kind === 'notify' || step.kind === 'request_approval')
      return publish({ ...action, ts: now(), params, status: 'executed', reason: decision.reason })
    state.acting = true
    try {
      const target = proposal.target as WorkloadTarget & { pod?: string }
      const result = await options.executor.run(step, target, {
        actionId: action.id,
        dryRun,
        ...(decision.replicas !== undefined && { replicas: decision.replicas }),
        ...(target.pod !== undefined && { pod: target.pod }),
      })
      const detail = Object.fromEntries(Object.entries(result.detail).map(([k, v]) => [k, String(v)]))
      await publish({
        ...action,
        ts: now(),
        params: { ...params, ...detail, changed: String(result.changed) },
        status: dryRun ? 'dry_run' : 'executed',
        reason: decision.reason,
      })
      if (!dryRun) verifyLater(state, stepIndex, action)
    } catch (error) {
      await publish({ ...action, ts: now(), params, status: 'failed', reason: errorMessage(error) })
    } finally {
      state.acting = false
    }
  }

  /** After the policy's verify time: quiet target, the action worked; new trouble, the next step. */
  function verifyLater(state: IncidentState, stepIndex: number, action: Action): void {
    const actedAt = now()
    const timer = setTimeout(() => {
      timers.delete(timer)
      chain = chain
        .then(async () => {
          const name = action.target.name
          const troubled = [...anomalies.values()].some(
            (a) => a.ts > actedAt && (a.workload?.name === name || a.entity.name === name),
          )
          const worked = state.incident.status === 'resolved' || !troubled
          await publish({
            ...action,
            ts: now(),
            status: 'executed',
            reason: worked
              ? 'verified: the target stayed healthy'
              : 'verification failed: the target still goes wrong',
            attributes: { verification: worked ? 'succeeded' : 'failed' },
          })
          if (!worked) {
            state.step = stepIndex + 1
            await consider(state)
          }
        })
        .catch((error: unknown) =>
          logger.warn({ err: error, reason: errorMessage(error) }, 'verification failed to run'),
        )
    }, state.policy?.verifyMs ?? 300_000)
    timer.unref()
    timers.add(timer)
  }

  function actionRecord(
    state: IncidentState,
    policy: Policy,
    stepIndex: number,
    target: WorkloadTarget,
  ): Action {
    const step = policy.steps[stepIndex]
    // One id per incident, policy and step: a redelivered incident does not act twice.
    const id = `act-${createHash('sha256').update(`${state.incident.id}/${policy.name}/${stepIndex}`).digest('hex').slice(0, 16)}`
    return {
      ts: now(),
      cluster: state.incident.cluster,
      namespace: target.namespace,
      id,
      incidentId: state.incident.id,
      policy: policy.name,
      kind: step?.kind ?? 'notify',
      target: { kind: target.kind, name: target.name, namespace: target.namespace },
      params: Object.fromEntries(
        Object.entries(step ?? {})
          .filter(([k]) => k !== 'kind')
          .map(([k, v]) => [k, String(v)]),
      ),
      status: 'proposed',
      reason: '',
    }
  }

  async function runCommand(command: RemediationCommand): Promise<void> {
    if (command.type === 'kill_switch') {
      guardrails.setKillSwitch(command.on)
      logger.warn({ by: command.by, on: command.on }, `remediation kill switch ${command.on ? 'ON' : 'off'}`)
      return
    }
    const waiting = pending.get(command.actionId)
    if (!waiting) return
    pending.delete(command.actionId)
    if (command.type === 'reject')
      return publish({
        ...waiting.action,
        ts: now(),
        status: 'rejected',
        reason: `rejected by ${command.by}`,
        actor: command.by,
      })
    await decideAndRun({ ...waiting.proposal, approvedBy: command.by }, waiting.state, waiting.step, {
      ...waiting.action,
      actor: command.by,
    })
  }

  return {
    name: 'remediator',
    guardrails,
    command: runCommand,
    async start() {
      // Every instance needs every anomaly (their kinds, and the pods' workloads) and every command.
      context = await options.bus.subscribe<Anomaly | RemediationCommand | WorkloadForecast>({
        group: `${options.group ?? 'argus-remediator'}-context-${randomUUID()}`,
        topics: [TOPICS.anomalies, TOPICS.remediationCommands, TOPICS.forecasts],
        fromBeginning: false,
        handler: async (batch) => {
          for (const { value } of batch.messages) {
            if (batch.topic === TOPICS.remediationCommands) {
              const command = value as RemediationCommand
              enqueue(() => runCommand(command), 'remediation command failed')
              continue
            }
            if (batch.topic === TOPICS.forecasts) {
              autoscaler?.forecast(value as WorkloadForecast)
              continue
            }
            const anomaly = value as Anomaly
            autoscaler?.observe(anomaly)
            anomalies.set(anomaly.id, anomaly)
            if (anomalies.size > MAX_ANOMALIES) anomalies.delete(anomalies.keys().next().value as string)
            const waiting = incidents.get(awaited.get(anomaly.id) ?? '')
            if (waiting) {
              awaited.delete(anomaly.id)
              enqueue(() => consider(waiting), 'remediation round failed')
            }
          }
          await chain
        },
      })
      subscription = await options.bus.subscribe<Incident | RootCause>({
        group: options.group ?? 'argus-remediator',
        topics: [TOPICS.incidents, TOPICS.rootCauses],
        fromBeginning: false,
        handler: async (batch) => {
          const touched = new Set<string>()
          for (const { value } of batch.messages) {
            if (batch.topic === TOPICS.rootCauses) {
              const cause = value as RootCause
              const state = incidents.get(cause.incidentId)
              if (!state) continue
              const known = state.causes.filter((c) => c.ts === cause.ts && c.rank !== cause.rank)
              state.causes = [...known, cause].sort((a, b) => a.rank - b.rank)
              touched.add(cause.incidentId)
            } else {
              const incident = value as Incident
              const state = incidents.get(incident.id)
              if (state && state.incident.version > incident.version) continue
              if (state) state.incident = incident
              else {
                incidents.set(incident.id, { incident, causes: [], step: 0, acting: false, tried: new Set() })
                if (incidents.size > MAX_INCIDENTS) incidents.delete(incidents.keys().next().value as string)
              }
              touched.add(incident.id)
            }
          }
          for (const id of touched) {
            const state = incidents.get(id)
            if (state) enqueue(() => consider(state), 'remediation round failed')
          }
          await chain.catch((error: unknown) =>
            logger.warn({ err: error, reason: errorMessage(error) }, 'remediation round failed'),
          )
        },
      })
      if (autoscaler) {
        const syncMs = Math.min(...options.config.autoscaling.map((a) => a.syncMs))
        autoscaleTimer = setInterval(() => {
          chain = chain
            .then(() => autoscaler.tick())
            .catch((error: unknown) =>
              logger.warn({ err: error, reason: errorMessage(error) }, 'autoscaling round failed'),
            )
        }, syncMs)
        autoscaleTimer.unref()
      }
      logger.info(
        { mode: guardrails.settings.mode, policies: options.config.policies.map((p) => p.name) },
        `remediation ${guardrails.settings.mode === 'enforce' ? 'ENFORCED' : 'in dry-run'}`,
      )
    },
    async stop() {
      if (autoscaleTimer) clearInterval(autoscaleTimer)
      for (const timer of timers) clearTimeout(timer)
      await subscription?.stop()
      await context?.stop()
      await chain.catch(() => undefined)
    },
  }
}
