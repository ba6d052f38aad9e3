import { createHash } from 'node:crypto'
import { errorMessage, type Action, type Anomaly, type WorkloadForecast } from '../core/index.js'
import type { WorkloadTarget } from '../kube/index.js'
import type { Guardrails } from './guardrails.js'
import type { RemediationExecutor } from './kube-executor.js'
import type { AutoscalePolicy } from './policy-config.js'
import { ScaleStabiliser } from './scale-behaviour.js'

/** Metric indicators whose rise means the workload has too little capacity. */
const SATURATION = new Set(['cpu_cores', 'cpu_throttled_per_s', 'latency_seconds', 'request_rate'])
/** How much one recommendation may ask for, relative to now. */
const MAX_FACTOR = 2
const MIN_FACTOR = 1.1
const MAX_TRACKED = 10_000

interface Tracked {
  policy: AutoscalePolicy
  target: WorkloadTarget
  cluster: string
  /** Replicas when Argus first had to scale it: where it returns when calm. */
  baseline: number | undefined
  stabiliser: ScaleStabiliser
  /** Latest saturation: when, and observed over expected. */
  saturatedAt: number
  factor: number
  /** Replicas when the latest ask was first acted on: the factor applies to these, once. */
  askedAt: number | undefined
  /** What asked for the current factor: a saturation anomaly or a forecast. */
  why: string
}

/**
 * Autoscaling on Argus's own signals: a saturation or latency anomaly on a workload an autoscale
 * policy covers asks for more replicas (in proportion to how far the signal is from its baseline);
 * calm asks to return to where it was. The HPA's behaviour (stabilisation windows, rate policies)
 * paces the answer, and every change passes the guardrails and is published like any action.
 */
export function createAutoscaler(options: {
  policies: readonly AutoscalePolicy[]
  guardrails: Guardrails
  executor: RemediationExecutor
  publish: (action: Action) => Promise<void>
  now: () => number
}) {
  const tracked = new Map<string, Tracked>()

  function policyFor(target: { namespace: string; name: string }): AutoscalePolicy | undefined {
    return options.policies.find(
      (p) =>
        (!p.namespaces || p.namespaces.includes(target.namespace)) && (!p.names || p.names.test(target.name)),
    )
  }

  return {
    get size(): number {
      return tracked.size
    },

    observe(anomaly: Anomaly): void {
      const indicator = anomaly.attributes?.indicator
      if (anomaly.signal !== 'metric' || !indicator || !SATURATION.has(indicator)) return
      if (anomaly.attributes?.movement !== 'up' || !anomaly.workload || !anomaly.namespace) return
      const evidence = anomaly.evidence[0]
      const ratio =
        evidence?.observed !== undefined && evidence.expected !== undefined && evidence.expected > 0
          ? evidence.observed / evidence.expected
          : MIN_FACTOR
      ask(anomaly, ratio, `saturation (${indicator})`)
    },

    /**
     * A model's forecast that load or CPU is about to rise: asks for the capacity it predicts, before
     * saturation shows (predictive scaling), paced like any other ask.
     */
    forecast(forecast: WorkloadForecast): void {
      if (!forecast.workload || !forecast.namespace || !(forecast.current > 0)) return
      const seconds = Math.round(forecast.horizonMs / 1_000)
      ask(
        forecast,
        forecast.predicted / forecast.current,
        `forecast: ${forecast.indicator} ${round(forecast.current)} -> ${round(forecast.predicted)} within ${seconds} s (model v${forecast.modelVersion})`,
      )
    },

    /** One sync: a recommendation per tracked workload, applied when its behaviour allows a change. */
    async tick(): Promise<void> {
      const now = options.now()
      for (const [key, state] of tracked) {
        try {
          const current = await options.executor.replicas(state.target)
          state.baseline ??= current
          const saturated = now - state.saturatedAt < state.policy.holdMs
          // Proportional to the replicas the ask found, as the HPA is: holding an ask does not compound it.
          if (saturated) state.askedAt ??= current
          const recommended = saturated
            ? Math.ceil((state.askedAt ?? current) * state.factor)
            : state.baseline
          const desired = state.stabiliser.desired(current, recommended, now)
          if (desired === current) {
            if (!saturated && current === state.baseline) tracked.delete(key) // back where it was
            continue
          }
          await scale(state, current, desired, now, saturated)
        } catch (error) {
          await options.publish(record(state, now, 'failed', errorMessage(error), {}))
        }
      }
    },
  }

  /** A request for capacity on a workload: the latest one sets how much, and is the reason recorded. */
  function ask(
    from: Pick<Anomaly, 'ts' | 'cluster' | 'namespace' | 'workload'>,
    ratio: number,
    why: string,
  ): void {
    if (!from.workload || !from.namespace) return
    if (from.workload.kind !== 'Deployment' && from.workload.kind !== 'StatefulSet') return
    const target: WorkloadTarget = {
      kind: from.workload.kind,
      namespace: from.namespace,
      name: from.workload.name,
    }
    const policy = policyFor(target)
    if (!policy) return
    const key = `${from.cluster}/${target.namespace}/${target.kind}/${target.name}`
    let state = tracked.get(key)
    if (!state) {
      if (tracked.size >= MAX_TRACKED) return // bounded; counted by the caller's metrics as unscaled
      state = {
        policy,
        target,
        cluster: from.cluster,
        baseline: undefined,
        stabiliser: new ScaleStabiliser(policy.behaviour),
        saturatedAt: 0,
        factor: 1,
        askedAt: undefined,
        why,
      }
      tracked.set(key, state)
    }
    state.saturatedAt = Math.max(state.saturatedAt, from.ts)
    state.factor = Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, ratio))
    state.askedAt = undefined
    state.why = why
  }

  async function scale(state: Tracked, current: number, desired: number, now: number, saturated: boolean) {
    const decision = options.guardrails.decide(
      {
        policy: state.policy.guardrails,
        kind: 'scale',
        target: state.target,
        currentReplicas: current,
        desiredReplicas: desired,
      },
      now,
    )
    const why = saturated
      ? `${state.why}: ${current} -> ${desired} replicas (HPA behaviour)`
      : `calm: back toward ${state.baseline ?? current} replicas after the scale-down stabilisation window`
    const params = { from: String(current), replicas: String(decision.replicas ?? desired) }
    if (decision.verdict === 'skip' || decision.verdict === 'await_approval')
      return options.publish(record(state, now, 'skipped', decision.reason, params))
    const dryRun = decision.verdict === 'dry_run'
    const replicas = decision.replicas ?? desired
    const id = actionId(state, now)
    await options.executor.run({ kind: 'scale' }, state.target, { actionId: id, dryRun, replicas })
    if (!dryRun) state.stabiliser.scaled(current, replicas, now)
    await options.publish(
      record(state, now, dryRun ? 'dry_run' : 'executed', `${why}; ${decision.reason}`, params, id),
    )
  }

  function record(
    state: Tracked,
    now: number,
    status: Action['status'],
    reason: string,
    params: Record<string, string>,
    id = actionId(state, now),
  ): Action {
    return {
      ts: now,
      cluster: state.cluster,
      namespace: state.target.namespace,
      id,
      policy: state.policy.name,
      kind: 'scale',
      target: { kind: state.target.kind, name: state.target.name, namespace: state.target.namespace },
      params,
      status,
      reason,
    }
  }
}

const round = (x: number): string => (Math.abs(x) >= 10 ? x.toFixed(0) : x.toPrecision(2))

function actionId(state: Tracked, now: number): string {
  const key = `${state.target.namespace}/${state.target.name}/${now}`
  return `scale-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`
}
