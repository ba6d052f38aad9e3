import { describe, expect, it } from 'vitest'
import { parseAlertConfig } from '../../../alerts/alert-config.js'
import { TimeIntervals } from '../../../alerts/time-intervals.js'

const at = (iso: string): number => Date.parse(iso)

describe('time intervals', () => {
  it('reads times, weekdays and the location as Alertmanager does (start inclusive, end exclusive)', () => {
    const intervals = new TimeIntervals([
      {
        name: 'business-hours',
        time_intervals: [
          {
            times: [{ start_time: '09:00', end_time: '18:00' }],
            weekdays: ['monday:friday'],
            location: 'Asia/Shanghai',
          },
        ],
      },
    ])
    // 2026-11-23 is a Monday. 01:00 UTC is 09:00 in Shanghai.
    expect(intervals.inEffect('business-hours', at('2026-11-23T01:00:00Z'))).toBe(true)
    expect(intervals.inEffect('business-hours', at('2026-11-23T00:59:00Z'))).toBe(false)
    expect(intervals.inEffect('business-hours', at('2026-11-23T10:00:00Z'))).toBe(false) // 18:00 local: ended
    expect(intervals.inEffect('business-hours', at('2026-11-22T03:00:00Z'))).toBe(false) // Sunday
    expect(intervals.inEffect('unknown', at('2026-11-23T03:00:00Z'))).toBe(false)
  })

  it('counts negative days from the end of the month and takes month names, numbers and years', () => {
    const intervals = new TimeIntervals([
      { name: 'month-end', time_intervals: [{ days_of_month: ['-2:-1'] }] },
      { name: 'q4-2026', time_intervals: [{ months: ['october:12'], years: ['2026'] }] },
      { name: 'always', time_intervals: [{}] },
    ])
    expect(intervals.inEffect('month-end', at('2026-11-29T12:00:00Z'))).toBe(true) // November has 30 days
    expect(intervals.inEffect('month-end', at('2026-11-28T12:00:00Z'))).toBe(false)
    expect(intervals.inEffect('month-end', at('2026-02-27T12:00:00Z'))).toBe(true) // 28 days
    expect(intervals.inEffect('q4-2026', at('2026-11-01T00:00:00Z'))).toBe(true)
    expect(intervals.inEffect('q4-2026', at('2027-11-01T00:00:00Z'))).toBe(false)
    expect(intervals.inEffect('always', 0)).toBe(true)
  })

  it('refuses what it cannot read, naming the interval', () => {
    const one = (period: Record<string, unknown>) => () =>
      new TimeIntervals([{ name: 'x', time_intervals: [period] }])
    expect(one({ times: [{ start_time: '9:00', end_time: '10:00' }] })).toThrow(
      /x\/0: "9:00" is not a time of day/,
    )
    expect(one({ times: [{ start_time: '10:00', end_time: '09:00' }] })).toThrow(/must be after start_time/)
    expect(one({ weekdays: ['funday'] })).toThrow(/"funday" is not a weekday/)
    expect(one({ months: ['december:march'] })).toThrow(/ends before it starts/)
    expect(one({ location: 'Mars/Olympus' })).toThrow(/unknown location Mars\/Olympus/)
  })

  it('are configured by name and used by routes, which must name known ones and not on the root', () => {
    const config = (extra: string, route = '') =>
      [
        'route:',
        '  receiver: ops',
        '  routes:',
        `    - { matchers: ['severity="warning"'], receiver: ops${route} }`,
        'receivers: [{ name: ops, webhook: { url: "http://127.0.0.1:1/" } }]',
        extra,
      ].join('\n')
    const parsed = parseAlertConfig(
      config(
        "time_intervals: [{ name: nights, time_intervals: [{ times: [{ start_time: '00:00', end_time: '08:00' }] }] }]",
        ', mute_time_intervals: [nights]',
      ),
    )
    expect(parsed.route.routes[0]?.muteTimeIntervals).toEqual(['nights'])
    expect(parsed.timeIntervals.inEffect('nights', at('2026-11-23T07:59:00Z'))).toBe(true)
    expect(() => parseAlertConfig(config('', ', active_time_intervals: [weekdays]'))).toThrow(
      /unknown time intervals: weekdays \(route 0\.0\)/,
    )
    expect(() =>
      parseAlertConfig(
        config('time_intervals: [{ name: n, time_intervals: [{}] }]').replace(
          '  receiver: ops\n',
          '  receiver: ops\n  mute_time_intervals: [n]\n',
        ),
      ),
    ).toThrow(/root\) cannot have mute or active time intervals/)
  })
})
