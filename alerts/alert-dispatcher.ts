import type { Alert } from '../core/index.js'
import { matchRoutes, type Route } from './route-tree.js'

/** One message to one receiver: a group's alerts, firing and newly resolved. */
export interface Notification {
  receiver: string
  routeId: string
  /** Identifies the group: the route and the values of its group_by labels. */
  groupKey: string
  groupLabels: Record<string, string>
  status: 'firing' | 'resolved'
  firing: Alert[]
  resolved: Alert[]
  /** Increases with each notification of the group: with groupKey, an idempotency key for receivers. */
  sequence: number
}

export interface DispatcherOptions {
  /** Whether an alert is muted now (silenced, inhibited, or in a mute time interval of its route). */
  isMuted?: (alert: Alert, route: Route, now: number) => boolean
  /** Groups kept at most; beyond, a new group is refused (counted in `droppedAlerts`). */
  maxGroups?: number
  /**
   * What of a firing alert is worth a new message when it changes (Alertmanager: nothing beyond
   * its presence). Argus passes an incident's severity and top root causes, so a cause found after
   * the first message is told at the next group_interval, not only at repeat_interval.
   */
  contentKey?: (alert: Alert) => string
}

interface Group {
  route: Route
  key: string
  labels: Record<string, string>
  alerts: Map<string, Alert>
  /** When the group is next looked at: group_wait after it opens, then every group_interval. */
  nextFlushAt: number
  /** What the last notification said (firing fingerprints and their content keys). */
  lastFiring: Map<string, string>
  lastNotifiedAt: number | undefined
  sequence: number
}

/**
 * Alertmanager's dispatch: each alert goes to the groups of the routes it matches (a group per
 * route and group_by values); a new group waits group_wait to gather its first alerts; then it is
 * looked at every group_interval and notifies when its firing set changed or an alert resolved,
 * and again after repeat_interval if nothing changed but something still fires. Time is passed in,
 * so tests run on a fake clock.
 */
export class AlertDispatcher {
  private readonly groups = new Map<string, Group>()
  private readonly maxGroups: number
  droppedAlerts = 0

  constructor(
    private readonly root: Route,
    private readonly options: DispatcherOptions = {},
  ) {
    this.maxGroups = options.maxGroups ?? 10_000
  }

  get groupCount(): number {
    return this.groups.size
  }

  receive(alert: Alert, now: number): void {
    for (const route of matchRoutes(this.root, alert.labels)) {
      const labels = groupLabels(route, alert.labels)
      const key = `${route.id}:${JSON.stringify(labels)}`
      let group = this.groups.get(key)
      if (!group) {
        if (alert.status === 'resolved') continue // nothing was said about it: nothing to resolve
        if (this.groups.size >= this.maxGroups) {
          this.droppedAlerts++
          continue
        }
        group = {
          route,
          key,
          labels,
          alerts: new Map(),
          nextFlushAt: now + route.groupWaitMs,
          lastFiring: new Map(),
          lastNotifiedAt: undefined,
          sequence: 0,
        }
        this.groups.set(key, group)
      }
      group.alerts.set(alert.fingerprint, alert)
    }
  }

  /** Notifications due at `now`, in group order; groups with nothing left are dropped. */
  due(now: number): Notification[] {
    const out: Notification[] = []
    for (const group of [...this.groups.values()]) {
      if (now < group.nextFlushAt) continue
      group.nextFlushAt = now + group.route.groupIntervalMs
      const active = [...group.alerts.values()].filter((a) => !this.options.isMuted?.(a, group.route, now))
      const firing = active.filter((a) => a.status === 'firing')
      // Resolved alerts are told only to a group that had told they were firing.
      const resolved = active.filter((a) => a.status === 'resolved' && group.lastFiring.has(a.fingerprint))
      const contentKey = this.options.contentKey ?? (() => '')
      const firingNow = new Map(firing.map((a) => [a.fingerprint, contentKey(a)]))
      const changed =
        resolved.length > 0 ||
        firing.some((a) => group.lastFiring.get(a.fingerprint) !== firingNow.get(a.fingerprint)) ||
        firingNow.size !== group.lastFiring.size
      const repeat =
        firing.length > 0 &&
        group.lastNotifiedAt !== undefined &&
        now - group.lastNotifiedAt >= group.route.repeatIntervalMs
      if ((changed && (firing.length > 0 || resolved.length > 0)) || repeat) {
        group.sequence++
        out.push({
          receiver: group.route.receiver,
          routeId: group.route.id,
          groupKey: group.key,
          groupLabels: group.labels,
          status: firing.length > 0 ? 'firing' : 'resolved',
          firing,
          resolved,
          sequence: group.sequence,
        })
        group.lastNotifiedAt = now
        group.lastFiring = firingNow
      }
      for (const alert of [...group.alerts.values()])
        if (alert.status === 'resolved' && !group.lastFiring.has(alert.fingerprint))
          group.alerts.delete(alert.fingerprint)
      if (group.alerts.size === 0) this.groups.delete(group.key)
    }
    return out
  }
}

function groupLabels(route: Route, labels: Readonly<Record<string, string>>): Record<string, string> {
  if (route.groupBy.includes('...')) return { ...labels }
  const out: Record<string, string> = {}
  for (const name of route.groupBy) if (labels[name] !== undefined) out[name] = labels[name]
  return out
}
