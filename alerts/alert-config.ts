import { readFileSync } from 'node:fs'
import Type, { type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { parse as parseYaml } from 'yaml'
import { ArgusError, errorMessage, parseDuration } from '../core/index.js'
import { parseMatcher } from './label-matcher.js'
import type { InhibitRuleConfig } from './inhibitor.js'
import type { ReceiverConfig } from './notification-sender.js'
import { buildRouteTree, type Route, type RouteConfig } from './route-tree.js'
import type { ChatPlatform } from './chat-messages.js'
import { DEFAULT_RATE_LIMITS } from './receiver-queues.js'
import { TimeIntervals } from './time-intervals.js'

const Duration = Type.String({
  pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$|^\\d+$',
  description: '30s, 5m, 4h, 1h30m',
})

interface YamlRoute {
  receiver?: string
  matchers?: string[]
  group_by?: string[]
  group_wait?: string
  group_interval?: string
  repeat_interval?: string
  continue?: boolean
  mute_time_intervals?: string[]
  active_time_intervals?: string[]
  routes?: YamlRoute[]
}

const RouteSchema = Type.Cyclic(
  {
    Route: Type.Object(
      {
        receiver: Type.Optional(Type.String({ minLength: 1 })),
        matchers: Type.Optional(Type.Array(Type.String())),
        group_by: Type.Optional(Type.Array(Type.String())),
        group_wait: Type.Optional(Duration),
        group_interval: Type.Optional(Duration),
        repeat_interval: Type.Optional(Duration),
        continue: Type.Optional(Type.Boolean()),
        mute_time_intervals: Type.Optional(Type.Array(Type.String())),
        active_time_intervals: Type.Optional(Type.Array(Type.String())),
        routes: Type.Optional(Type.Array(Type.Ref('Route'))),
      },
      { additionalProperties: false },
    ),
  },
  'Route',
)

const Endpoint = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    secret: Type.Optional(Type.String({ minLength: 1 })),
    timeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
)

const PLATFORMS = ['slack', 'dingtalk', 'wecom', 'feishu', 'teams', 'webhook'] as const

const RangeList = Type.Optional(Type.Array(Type.String({ minLength: 1 })))
const NamedTimeIntervals = Type.Optional(
  Type.Array(
    Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        time_intervals: Type.Array(
          Type.Object(
            {
              times: Type.Optional(
                Type.Array(
                  Type.Object(
                    { start_time: Type.String(), end_time: Type.String() },
                    { additionalProperties: false },
                  ),
                ),
              ),
              weekdays: RangeList,
              days_of_month: RangeList,
              months: RangeList,
              years: RangeList,
              location: Type.Optional(Type.String({ minLength: 1 })),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ),
)

const RateLimit = Type.Object(
  {
    max: Type.Integer({ minimum: 1 }),
    per: Duration,
  },
  { additionalProperties: false, description: 'at most `max` messages per `per`; more wait their turn' },
)

const AlertConfigSchema = Type.Object(
  {
    route: RouteSchema,
    receivers: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh')])),
          rate_limit: Type.Optional(RateLimit),
          slack: Type.Optional(Endpoint),
          dingtalk: Type.Optional(Endpoint),
          wecom: Type.Optional(Endpoint),
          feishu: Type.Optional(Endpoint),
          teams: Type.Optional(Endpoint),
          webhook: Type.Optional(Endpoint),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    time_intervals: NamedTimeIntervals,
    // The name Alertmanager used before 0.24; still accepted there, so here too.
    mute_time_intervals: NamedTimeIntervals,
    inhibit_rules: Type.Optional(
      Type.Array(
        Type.Object(
          {
            source_matchers: Type.Array(Type.String(), { minItems: 1 }),
            target_matchers: Type.Array(Type.String(), { minItems: 1 }),
            equal: Type.Optional(Type.Array(Type.String())),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
)
const checkConfig = Compile(AlertConfigSchema)

/** The alerting configuration, validated and resolved: what the dispatcher and sender run on. */
export interface AlertConfig {
  route: Route
  receivers: Map<string, ReceiverConfig>
  inhibitRules: InhibitRuleConfig[]
  timeIntervals: TimeIntervals
}

/**
 * Reads alerting YAML in Alertmanager's shape (`route`, `receivers`, `inhibit_rules`, snake_case,
 * durations like `30s`), so an existing Alertmanager config moves over with its receivers swapped
 * for the chat platforms. Every error names its place and the process refuses to start with it.
 */
export function parseAlertConfig(text: string, source = 'alert config'): AlertConfig {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: not YAML: ${errorMessage(error)}`)
  }
  if (!checkConfig.Check(raw)) {
    const [first] = checkConfig.Errors(raw)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `${source}: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`,
    )
  }
  const config = raw
  const receivers = new Map<string, ReceiverConfig>()
  config.receivers.forEach((r, i) => {
    const platforms = PLATFORMS.filter((p) => r[p] !== undefined)
    if (platforms.length !== 1)
      throw new ArgusError(
        'ARGUS_ERR_CONFIG',
        `${source}: /receivers/${i} (${r.name}) needs exactly one of ${PLATFORMS.join(', ')}`,
      )
    if (receivers.has(r.name))
      throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: receiver ${r.name} is defined twice`)
    const platform = platforms[0] as ChatPlatform
    const endpoint = r[platform] as Static<typeof Endpoint>
    if (endpoint.secret && platform !== 'dingtalk' && platform !== 'feishu')
      throw new ArgusError(
        'ARGUS_ERR_CONFIG',
        `${source}: receiver ${r.name}: only dingtalk and feishu sign with a secret`,
      )
    const rateLimit = r.rate_limit
      ? { max: r.rate_limit.max, perMs: parseDuration(r.rate_limit.per) ?? 0 }
      : DEFAULT_RATE_LIMITS[platform]
    if (rateLimit && !(rateLimit.perMs > 0))
      throw new ArgusError(
        'ARGUS_ERR_CONFIG',
        `${source}: receiver ${r.name}: rate_limit.per must be above 0`,
      )
    receivers.set(r.name, {
      name: r.name,
      ...(rateLimit && { rateLimit }),
      platform,
      url: endpoint.url,
      ...(endpoint.secret !== undefined && { secret: endpoint.secret }),
      ...(r.language !== undefined && { language: r.language }),
      ...(endpoint.timeout !== undefined && { timeoutMs: parseDuration(endpoint.timeout) }),
    })
  })
  if (config.route.receiver === undefined)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `${source}: /route needs a receiver (the default for every alert)`,
    )
  if (config.route.mute_time_intervals || config.route.active_time_intervals)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `${source}: /route (the root) cannot have mute or active time intervals; set them on a child route`,
    )
  const route = buildRouteTree(toRouteConfig(config.route, '/route', source))
  const unknown = (r: Route): string[] => [
    ...(receivers.has(r.receiver) ? [] : [`${r.receiver} (route ${r.id})`]),
    ...r.routes.flatMap(unknown),
  ]
  const timeIntervals = parseOrConfigError(
    () => new TimeIntervals([...(config.time_intervals ?? []), ...(config.mute_time_intervals ?? [])]),
    source,
  )
  const unknownIntervals = (r: Route): string[] => [
    ...[...r.muteTimeIntervals, ...r.activeTimeIntervals]
      .filter((name) => !timeIntervals.has(name))
      .map((name) => `${name} (route ${r.id})`),
    ...r.routes.flatMap(unknownIntervals),
  ]
  const missingIntervals = unknownIntervals(route)
  if (missingIntervals.length > 0)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `${source}: unknown time intervals: ${missingIntervals.join(', ')}`,
    )
  const missing = unknown(route)
  if (missing.length > 0)
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: unknown receivers: ${missing.join(', ')}`)
  const inhibitRules = (config.inhibit_rules ?? []).map((rule, i) => {
    for (const m of [...rule.source_matchers, ...rule.target_matchers])
      matcherAt(m, `/inhibit_rules/${i}`, source)
    return {
      sourceMatchers: rule.source_matchers,
      targetMatchers: rule.target_matchers,
      ...(rule.equal && { equal: rule.equal }),
    }
  })
  return { route, receivers, inhibitRules, timeIntervals }
}

export function loadAlertConfig(file: string): AlertConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `cannot read ${file}: ${errorMessage(error)}`)
  }
  return parseAlertConfig(text, file)
}

function toRouteConfig(route: YamlRoute, path: string, source: string): RouteConfig {
  const duration = (value: string | undefined): number | undefined =>
    value === undefined ? undefined : parseDuration(value)
  for (const m of route.matchers ?? []) matcherAt(m, `${path}/matchers`, source)
  const out: RouteConfig = {}
  if (route.receiver !== undefined) out.receiver = route.receiver
  if (route.matchers) out.matchers = route.matchers
  if (route.group_by) out.groupBy = route.group_by
  const wait = duration(route.group_wait)
  const interval = duration(route.group_interval)
  const repeat = duration(route.repeat_interval)
  if (wait !== undefined) out.groupWaitMs = wait
  if (interval !== undefined) out.groupIntervalMs = interval
  if (repeat !== undefined) out.repeatIntervalMs = repeat
  if (route.continue !== undefined) out.continue = route.continue
  if (route.mute_time_intervals) out.muteTimeIntervals = route.mute_time_intervals
  if (route.active_time_intervals) out.activeTimeIntervals = route.active_time_intervals
  if (route.routes) out.routes = route.routes.map((r, i) => toRouteConfig(r, `${path}/routes/${i}`, source))
  return out
}

function parseOrConfigError<T>(parse: () => T, source: string): T {
  try {
    return parse()
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: ${errorMessage(error)}`)
  }
}

function matcherAt(text: string, path: string, source: string): void {
  try {
    parseMatcher(text)
  } catch (error) {
    throw new ArgusError('ARGUS_ERR_CONFIG', `${source}: ${path}: ${errorMessage(error)}`)
  }
}
