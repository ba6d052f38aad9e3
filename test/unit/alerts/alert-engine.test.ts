import { describe, expect, it } from 'vitest'
import { AlertDispatcher } from '../../../alerts/alert-dispatcher.js'
import { alertFingerprint } from '../../../alerts/alert-fingerprint.js'
import { Inhibitor } from '../../../alerts/inhibitor.js'
import { matchesAll, parseMatcher } from '../../../alerts/label-matcher.js'
import { buildRouteTree, matchRoutes } from '../../../alerts/route-tree.js'
import { Silences } from '../../../alerts/silences.js'
import type { Alert } from '../../../core/index.js'

const T0 = Date.parse('2026-11-01T00:00:00Z')
const S = 1_000
const MIN = 60_000

function alert(labels: Record<string, string>, status: Alert['status'] = 'firing'): Alert {
  return {
    ts: T0,
    cluster: 'c1',
    fingerprint: alertFingerprint(labels),
    status,
    labels,
    annotations: {},
    startsAt: T0,
  }
}

const tree = buildRouteTree({
  receiver: 'default',
  groupBy: ['alertname'],
  groupWaitMs: 30 * S,
  groupIntervalMs: 5 * MIN,
  repeatIntervalMs: 4 * 60 * MIN,
  routes: [
    { matchers: ['severity="critical"'], receiver: 'pager', continue: true },
    { matchers: ['namespace=~"shop|pay"'], receiver: 'shop-team', groupBy: ['namespace', 'alertname'] },
    { matchers: ['namespace="shop"'], receiver: 'never: the route above matched first' },
  ],
})

describe('label matchers', () => {
  it('parses the four operators, quoted or not, and matches a missing label as empty', () => {
    expect(matchesAll({ a: 'x' }, [parseMatcher('a="x"')])).toBe(true)
    expect(matchesAll({ a: 'x' }, [parseMatcher('a!=x')])).toBe(false)
    expect(matchesAll({ a: 'shop-1' }, [parseMatcher('a=~"shop-.*"')])).toBe(true)
    expect(matchesAll({ a: 'xshop-1' }, [parseMatcher('a=~"shop-.*"')])).toBe(false) // anchored
    expect(matchesAll({}, [parseMatcher('a!~".+"')])).toBe(true)
    expect(() => parseMatcher('not a matcher')).toThrow(/is not name=value/)
    expect(() => parseMatcher('a=~"("')).toThrow(/ARGUS|Invalid regular expression|Unterminated/)
  })
})

describe('routing tree', () => {
  it('walks depth first: continue lets later siblings match, the first match without it stops them', () => {
    const receivers = (labels: Record<string, string>) => matchRoutes(tree, labels).map((r) => r.receiver)
    expect(receivers({ severity: 'critical', namespace: 'shop' })).toEqual(['pager', 'shop-team'])
    expect(receivers({ namespace: 'shop' })).toEqual(['shop-team'])
    expect(receivers({ namespace: 'kube-system' })).toEqual(['default'])
  })

  it('children inherit their parent settings unless they set their own', () => {
    const [pager, team] = tree.routes
    expect(pager).toMatchObject({
      groupBy: ['alertname'],
      groupWaitMs: 30 * S,
      repeatIntervalMs: 4 * 60 * MIN,
    })
    expect(team).toMatchObject({ groupBy: ['namespace', 'alertname'], id: '0.1' })
  })
})

describe('alert dispatcher', () => {
  it('waits group_wait, sends the group once, then only on change or after repeat_interval', () => {
    const dispatcher = new AlertDispatcher(tree)
    dispatcher.receive(alert({ alertname: 'HighLatency', namespace: 'shop', pod: 'a' }), T0)
    expect(dispatcher.due(T0 + 10 * S)).toEqual([]) // still gathering
    dispatcher.receive(alert({ alertname: 'HighLatency', namespace: 'shop', pod: 'b' }), T0 + 20 * S)
    const first = dispatcher.due(T0 + 30 * S)
    expect(first.map((n) => [n.receiver, n.status, n.firing.length, n.sequence])).toEqual([
      ['shop-team', 'firing', 2, 1],
    ])
    expect(first[0]?.groupLabels).toEqual({ namespace: 'shop', alertname: 'HighLatency' })
    // Nothing changed: no message at the next group_interval.
    expect(dispatcher.due(T0 + 30 * S + 5 * MIN)).toEqual([])
    // A new alert in the group: told at the next group_interval, not before.
    dispatcher.receive(alert({ alertname: 'HighLatency', namespace: 'shop', pod: 'c' }), T0 + 6 * MIN)
    expect(dispatcher.due(T0 + 6 * MIN)).toEqual([])
    expect(dispatcher.due(T0 + 30 * S + 10 * MIN).map((n) => n.firing.length)).toEqual([3])
    // Still firing, unchanged: repeated after repeat_interval (4 h).
    expect(dispatcher.due(T0 + 3 * 60 * MIN)).toEqual([])
    const repeated = dispatcher.due(T0 + 30 * S + 10 * MIN + 4 * 60 * MIN)
    expect(repeated.map((n) => [n.firing.length, n.sequence])).toEqual([[3, 3]])
  })

  it('tells a firing alert again at the next group_interval when its content key changes', () => {
    const dispatcher = new AlertDispatcher(tree, { contentKey: (a) => a.annotations.cause ?? '' })
    const labels = { alertname: 'ArgusIncident', namespace: 'kube-system' }
    dispatcher.receive({ ...alert(labels), annotations: {} }, T0)
    expect(dispatcher.due(T0 + 30 * S).map((n) => n.sequence)).toEqual([1])
    // The root cause is found later: news, told at the next group_interval.
    dispatcher.receive({ ...alert(labels), annotations: { cause: 'Pod/db-0' } }, T0 + MIN)
    const told = dispatcher.due(T0 + 30 * S + 5 * MIN)
    expect(told.map((n) => [n.sequence, n.firing[0]?.annotations.cause])).toEqual([[2, 'Pod/db-0']])
    // The same cause again: nothing new.
    dispatcher.receive({ ...alert(labels), annotations: { cause: 'Pod/db-0' } }, T0 + 6 * MIN)
    expect(dispatcher.due(T0 + 30 * S + 10 * MIN)).toEqual([])
  })

  it('sends resolved alerts once to the groups that told they fired, then forgets the group', () => {
    const dispatcher = new AlertDispatcher(tree)
    const labels = { alertname: 'PodCrashLooping', namespace: 'kube-system' }
    dispatcher.receive(alert(labels), T0)
    expect(dispatcher.due(T0 + 30 * S)).toHaveLength(1)
    dispatcher.receive(alert(labels, 'resolved'), T0 + MIN)
    const resolved = dispatcher.due(T0 + 30 * S + 5 * MIN)
    expect(resolved.map((n) => [n.receiver, n.status, n.resolved.length, n.firing.length])).toEqual([
      ['default', 'resolved', 1, 0],
    ])
    expect(dispatcher.groupCount).toBe(0)
    // A resolved alert never told as firing is not sent at all.
    dispatcher.receive(alert({ alertname: 'Other' }, 'resolved'), T0 + 10 * MIN)
    expect(dispatcher.due(T0 + 20 * MIN)).toEqual([])
  })

  it('leaves muted alerts out: silences and inhibition', () => {
    const silences = new Silences()
    silences.add(
      {
        matchers: ['alertname="Noisy"'],
        startsAt: T0,
        endsAt: T0 + 60 * MIN,
        createdBy: 'ops@example.com',
        comment: 'known, ticket OPS-1',
      },
      T0,
    )
    const inhibitor = new Inhibitor([
      { sourceMatchers: ['alertname="NodeDown"'], targetMatchers: ['severity="warning"'], equal: ['node'] },
    ])
    const firing: Alert[] = []
    const dispatcher = new AlertDispatcher(
      buildRouteTree({ receiver: 'ops', groupBy: ['...'], groupWaitMs: 0 }),
      {
        isMuted: (a, _route, now) =>
          silences.muting(a.labels, now).length > 0 || inhibitor.inhibited(a.labels, a.fingerprint, firing),
      },
    )
    const nodeDown = alert({ alertname: 'NodeDown', node: 'n1', severity: 'critical' })
    firing.push(nodeDown)
    for (const a of [
      nodeDown,
      alert({ alertname: 'Noisy' }),
      alert({ alertname: 'PodSlow', node: 'n1', severity: 'warning' }),
      alert({ alertname: 'PodSlow', node: 'n2', severity: 'warning' }),
    ])
      dispatcher.receive(a, T0)
    const sent = dispatcher
      .due(T0)
      .flatMap((n) => n.firing.map((a) => `${a.labels.alertname}/${a.labels.node ?? '-'}`))
    expect(sent.sort()).toEqual(['NodeDown/n1', 'PodSlow/n2'])
    // After the silence ends, the noisy alert is told.
    expect(dispatcher.due(T0 + 61 * MIN).flatMap((n) => n.firing.map((a) => a.labels.alertname))).toContain(
      'Noisy',
    )
  })

  it('refuses silences that are empty, endless or would mute everything', () => {
    const silences = new Silences()
    const base = { startsAt: T0, endsAt: T0 + MIN, createdBy: 'a', comment: 'c' }
    expect(() => silences.add({ ...base, matchers: [] }, T0)).toThrow(/at least one matcher/)
    expect(() => silences.add({ ...base, matchers: ['a="x"'], endsAt: T0 }, T0)).toThrow(
      /end after it starts/,
    )
    expect(() => silences.add({ ...base, matchers: ['a=~".*"'] }, T0)).toThrow(/mute everything/)
    expect(() => silences.add({ ...base, matchers: ['a="x"'] }, T0 + 2 * MIN)).toThrow(/end in the future/)
  })
})
