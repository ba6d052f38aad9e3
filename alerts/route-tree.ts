import { matchesAll, parseMatcher, type LabelMatcher } from './label-matcher.js'

/** A route as configured (YAML): Alertmanager's fields, durations in milliseconds. */
export interface RouteConfig {
  receiver?: string
  matchers?: string[]
  groupBy?: string[]
  groupWaitMs?: number
  groupIntervalMs?: number
  repeatIntervalMs?: number
  continue?: boolean
  muteTimeIntervals?: string[]
  activeTimeIntervals?: string[]
  routes?: RouteConfig[]
}

/** A route with its inherited settings resolved: what the dispatcher needs per matching route. */
export interface Route {
  /** Position in the tree (`0`, `0.1`, `0.1.2`): names the route in groups and in `alerts route-test`. */
  id: string
  receiver: string
  matchers: LabelMatcher[]
  /** `['...']` groups by every label, as in Alertmanager. */
  groupBy: string[]
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  continue: boolean
  /** Names of time intervals during which the route sends nothing. */
  muteTimeIntervals: string[]
  /** When set, the route sends only while one of these is in effect. */
  activeTimeIntervals: string[]
  routes: Route[]
}

/** Alertmanager's defaults. */
export const ROUTE_DEFAULTS = {
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3_600_000,
} as const

/** Resolves inheritance: a child takes its parent's receiver, grouping and timings unless it sets its own. */
export function buildRouteTree(config: RouteConfig, parent?: Route, id = '0'): Route {
  const route: Route = {
    id,
    receiver: config.receiver ?? parent?.receiver ?? '',
    matchers: (config.matchers ?? []).map(parseMatcher),
    groupBy: config.groupBy ?? parent?.groupBy ?? [],
    groupWaitMs: config.groupWaitMs ?? parent?.groupWaitMs ?? ROUTE_DEFAULTS.groupWaitMs,
    groupIntervalMs: config.groupIntervalMs ?? parent?.groupIntervalMs ?? ROUTE_DEFAULTS.groupIntervalMs,
    repeatIntervalMs: config.repeatIntervalMs ?? parent?.repeatIntervalMs ?? ROUTE_DEFAULTS.repeatIntervalMs,
    continue: config.continue ?? false,
    // Not inherited, as in Alertmanager: a child route is muted only by its own intervals.
    muteTimeIntervals: config.muteTimeIntervals ?? [],
    activeTimeIntervals: config.activeTimeIntervals ?? [],
    routes: [],
  }
  route.routes = (config.routes ?? []).map((child, i) => buildRouteTree(child, route, `${id}.${i}`))
  return route
}

/**
 * The routes an alert is notified through, as Alertmanager walks the tree: depth first, the
 * deepest matching routes; a route that matches stops its siblings unless it has `continue`; a
 * route none of whose children match handles the alert itself.
 */
export function matchRoutes(root: Route, labels: Readonly<Record<string, string>>): Route[] {
  if (!matchesAll(labels, root.matchers)) return []
  const found: Route[] = []
  for (const child of root.routes) {
    const matched = matchRoutes(child, labels)
    if (matched.length === 0) continue
    found.push(...matched)
    if (!child.continue) break
  }
  return found.length > 0 ? found : [root]
}
