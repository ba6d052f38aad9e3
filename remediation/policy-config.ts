import { readFileSync } from 'node:fs'
import Type from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml } from 'yaml'
import { ArgusError, errorMessage, parseDuration, type ActionKind } from '../core/index.js'
import type { GlobalGuardrails, PolicyGuardrails } from './guardrails.js'
import { HPA_DEFAULT_BEHAVIOUR, type ScaleBehaviour } from './scale-behaviour.js'

const Duration = Type.String({ pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$', description: '30s, 10m, 1h' })
const RateLimit = Type.Object(
  { max: Type.Integer({ minimum: 1 }), per: Duration },
  { additionalProperties: false },
)
const ACTIONS = [
  'scale',
  'restart',
  'delete_pod',
  'rollback',
  'patch_hpa',
  'raise_memory_limit',
  'notify',
  'request_approval',
] as const

const PolicySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9-]*$' }),
    description: Type.Optional(Type.String()),
    match: Type.Object(
      {
        severity: Type.Optional(
          Type.Array(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])),
        ),
        root_cause_kinds: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        anomaly_kinds: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        namespaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        names: Type.Optional(
          Type.String({ description: 'a regular expression on the workload name (anchored)' }),
        ),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    actions: Type.Array(
      Type.Object(
        {
          action: Type.Union(ACTIONS.map((a) => Type.Literal(a))),
          replicas: Type.Optional(Type.Integer({ minimum: 0 })),
          /** scale: add this many replicas (negative: remove). */
          by: Type.Optional(Type.Integer()),
          min: Type.Optional(Type.Integer({ minimum: 0 })),
          max: Type.Optional(Type.Integer({ minimum: 1 })),
          container: Type.Optional(Type.String()),
          memory: Type.Optional(Type.String({ pattern: '^\\d+(Ki|Mi|Gi)$' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'tried in order: the next one when verification fails' },
    ),
    dry_run: Type.Optional(Type.Boolean()),
    require_approval: Type.Optional(Type.Boolean()),
    cooldown: Type.Optional(Duration),
    rate_limit: Type.Optional(RateLimit),
    replicas: Type.Optional(
      Type.Object(
        {
          min: Type.Optional(Type.Integer({ minimum: 0 })),
          max: Type.Integer({ minimum: 1 }),
          max_step: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    blast_radius: Type.Optional(Type.String({ pattern: '^\\d{1,3}%$' })),
    verify: Type.Optional(Duration),
  },
  { additionalProperties: false },
)

const AutoscaleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[a-z0-9][a-z0-9-]*$' }),
    match: Type.Object(
      {
        namespaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        names: Type.Optional(
          Type.String({ description: 'a regular expression on the workload name (anchored)' }),
        ),
      },
      { additionalProperties: false },
    ),
    replicas: Type.Object(
      { min: Type.Integer({ minimum: 1 }), max: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    scale_up: Type.Optional(
      Type.Object(
        {
          stabilization: Type.Optional(Duration),
          pods: Type.Optional(Type.Integer({ minimum: 1 })),
          percent: Type.Optional(Type.Integer({ minimum: 1 })),
          period: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    scale_down: Type.Optional(
      Type.Object(
        {
          stabilization: Type.Optional(Duration),
          percent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          period: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    /** How often recommendations are made (the HPA's sync period). */
    sync: Type.Optional(Duration),
    /** How long one saturation anomaly keeps asking for more replicas (anomalies mark an episode's start). */
    hold: Type.Optional(Duration),
    dry_run: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const ConfigSchema = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('dry-run'), Type.Literal('enforce')])),
    kill_switch: Type.Optional(Type.Boolean()),
    namespaces: Type.Optional(
      Type.Object(
        { allow: Type.Optional(Type.Array(Type.String())), deny: Type.Optional(Type.Array(Type.String())) },
        { additionalProperties: false },
      ),
    ),
    rate_limit: Type.Optional(RateLimit),
    policies: Type.Array(PolicySchema),
    autoscaling: Type.Optional(Type.Array(AutoscaleSchema)),
  },
  { additionalProperties: false },
)
const check = Compile(ConfigSchema)

export interface PolicyStep {
  kind: ActionKind
  replicas?: number
  by?: number
  min?: number
  max?: number
  container?: string
  memory?: string
}

export interface PolicyMatch {
  severity?: readonly string[]
  rootCauseKinds?: readonly string[]
  anomalyKinds?: readonly string[]
  namespaces?: readonly string[]
  names?: RegExp
  labels?: Readonly<Record<string, string>>
}

export interface Policy {
  name: string
  match: PolicyMatch
  steps: PolicyStep[]
  guardrails: PolicyGuardrails
  /** How long the target's signals are watched after an action before it counts as working. */
  verifyMs: number
}

/** Scale out on Argus's saturation and latency anomalies, back in when calm, as an HPA would. */
export interface AutoscalePolicy {
  name: string
  namespaces?: readonly string[]
  names?: RegExp
  behaviour: ScaleBehaviour
  syncMs: number
  holdMs: number
  guardrails: PolicyGuardrails
}

export interface RemediationConfig {
  guardrails: GlobalGuardrails
  policies: Policy[]
  autoscaling: AutoscalePolicy[]
}

/**
 * Remediation policies in YAML, validated with the place of each error: what to match (incident
 * severity, root-cause kind, anomaly kinds, namespaces, workload names, labels) and the actions to
 * try in order, with each policy's limits. Everything is dry-run unless `mode: enforce` and the
 * policy's own `dry_run: false` both say otherwise.
 */
export function parseRemediationConfig(text: string, source = 'remediation config'): RemediationConfig {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: not YAML: ${errorMessage(error)}`)
  }
  if (!check.Check(raw)) {
    const [first] = check.Errors(raw)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `${source}: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`,
    )
  }
  const config = raw
  const duration = (text: string | undefined, fallback: number): number =>
    text === undefined ? fallback : (parseDuration(text) ?? fallback)
  const seen = new Set<string>()
  const policies = config.policies.map((p, i): Policy => {
    if (seen.has(p.name))
      throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: policy ${p.name} is defined twice`)
    seen.add(p.name)
    const names = namePattern(p.match.names, `/policies/${i}/match/names`, source)
    const steps = p.actions.map((a, j): PolicyStep => {
      if (a.action === 'raise_memory_limit' && a.memory === undefined)
        throw new ArgusError(
          'ARGUS_ERR_CONFIG',
          `${source}: /policies/${i}/actions/${j}: raise_memory_limit needs memory (the most it may set)`,
        )
      if (a.action === 'patch_hpa' && a.min === undefined && a.max === undefined)
        throw new ArgusError(
          'ARGUS_ERR_CONFIG',
          `${source}: /policies/${i}/actions/${j}: patch_hpa needs min or max`,
        )
      const { action, ...rest } = a
      return { kind: action, ...rest }
    })
    const maxReplicas = p.replicas?.max ?? 10
    const minReplicas = p.replicas?.min ?? 1
    if (minReplicas > maxReplicas)
      throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: /policies/${i}/replicas: min is above max`)
    const match: PolicyMatch = {
      ...(p.match.severity && { severity: p.match.severity }),
      ...(p.match.root_cause_kinds && { rootCauseKinds: p.match.root_cause_kinds }),
      ...(p.match.anomaly_kinds && { anomalyKinds: p.match.anomaly_kinds }),
      ...(p.match.namespaces && { namespaces: p.match.namespaces }),
      ...(names && { names }),
      ...(p.match.labels && { labels: p.match.labels }),
    }
    return {
      name: p.name,
      match,
      steps,
      verifyMs: duration(p.verify, 5 * 60_000),
      guardrails: {
        name: p.name,
        dryRun: p.dry_run ?? true,
        requireApproval: p.require_approval ?? false,
        cooldownMs: duration(p.cooldown, 10 * 60_000),
        rateLimit: p.rate_limit
          ? { max: p.rate_limit.max, perMs: duration(p.rate_limit.per, 3_600_000) }
          : { max: 5, perMs: 3_600_000 },
        minReplicas,
        maxReplicas,
        maxStep: p.replicas?.max_step ?? 4,
        blastRadiusPercent: p.blast_radius ? Number(p.blast_radius.slice(0, -1)) : 25,
      },
    }
  })
  const autoscaling = (config.autoscaling ?? []).map((a, i): AutoscalePolicy => {
    if (seen.has(a.name))
      throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: policy ${a.name} is defined twice`)
    seen.add(a.name)
    if (a.replicas.min > a.replicas.max)
      throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: /autoscaling/${i}/replicas: min is above max`)
    const names = namePattern(a.match.names, `/autoscaling/${i}/match/names`, source)
    const up = HPA_DEFAULT_BEHAVIOUR.scaleUp
    const down = HPA_DEFAULT_BEHAVIOUR.scaleDown
    return {
      name: a.name,
      ...(a.match.namespaces && { namespaces: a.match.namespaces }),
      ...(names && { names }),
      syncMs: duration(a.sync, 15_000),
      holdMs: duration(a.hold, 180_000),
      behaviour: {
        minReplicas: a.replicas.min,
        maxReplicas: a.replicas.max,
        scaleUp: {
          stabilizationMs: duration(a.scale_up?.stabilization, up.stabilizationMs),
          pods: a.scale_up?.pods ?? up.pods,
          percent: a.scale_up?.percent ?? up.percent,
          periodMs: duration(a.scale_up?.period, up.periodMs),
        },
        scaleDown: {
          stabilizationMs: duration(a.scale_down?.stabilization, down.stabilizationMs),
          percent: a.scale_down?.percent ?? down.percent,
          periodMs: duration(a.scale_down?.period, down.periodMs),
        },
      },
      // The behaviour paces it; the guardrails still bound replicas and keep the global limits.
      guardrails: {
        name: a.name,
        dryRun: a.dry_run ?? true,
        requireApproval: false,
        cooldownMs: 0,
        rateLimit: { max: 240, perMs: 3_600_000 },
        minReplicas: a.replicas.min,
        maxReplicas: a.replicas.max,
        maxStep: a.replicas.max,
        blastRadiusPercent: 100,
      },
    }
  })
  return {
    policies,
    autoscaling,
    guardrails: {
      mode: config.mode ?? 'dry-run',
      killSwitch: config.kill_switch ?? false,
      allowNamespaces: config.namespaces?.allow ?? [],
      denyNamespaces: config.namespaces?.deny ?? [],
      rateLimit: config.rate_limit
        ? { max: config.rate_limit.max, perMs: duration(config.rate_limit.per, 3_600_000) }
        : { max: 20, perMs: 3_600_000 },
    },
  }
}

/** A workload-name pattern, anchored; a broken one is a configuration error naming its place. */
function namePattern(pattern: string | undefined, path: string, source: string): RegExp | undefined {
  if (pattern === undefined) return undefined
  try {
    return new RegExp(`^(?:${pattern})$`)
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: ${path}: ${errorMessage(error)}`)
  }
}

export function loadRemediationConfig(file: string): RemediationConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `cannot read ${file}: ${errorMessage(error)}`)
  }
  return parseRemediationConfig(text, file)
}
