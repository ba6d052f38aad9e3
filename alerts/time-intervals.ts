import { ArgusError } from '../core/index.js'

/**
 * Alertmanager's time intervals: a named list of periods, each a conjunction of optional fields
 * (times of day, weekdays, days of the month, months, years) read in a time zone. A route's
 * `mute_time_intervals` silence it while one is in effect; `active_time_intervals` let it notify
 * only then (e.g. a business-hours chat group).
 */
export interface TimeIntervalConfig {
  times?: Array<{ start_time: string; end_time: string }>
  weekdays?: string[]
  days_of_month?: string[]
  months?: string[]
  years?: string[]
  location?: string
}

interface Period {
  /** [start, end) in minutes of the day. */
  times: Array<[number, number]>
  /** Inclusive ranges; weekdays 0 = Sunday, months 1..12, days may be negative (from the month's end). */
  weekdays: Array<[number, number]>
  daysOfMonth: Array<[number, number]>
  months: Array<[number, number]>
  years: Array<[number, number]>
  zone: Intl.DateTimeFormat
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
]

/** The named intervals of a configuration; `inEffect` answers for a name at a time. */
export class TimeIntervals {
  private readonly byName = new Map<string, Period[]>()

  constructor(named: ReadonlyArray<{ name: string; time_intervals: TimeIntervalConfig[] }> = []) {
    for (const { name, time_intervals } of named) {
      if (this.byName.has(name)) throw bad(`time interval ${name} is defined twice`)
      this.byName.set(
        name,
        time_intervals.map((p, i) => parsePeriod(p, `${name}/${i}`)),
      )
    }
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  /** Whether any period of the named interval contains `ts` (an unknown name never does). */
  inEffect(name: string, ts: number): boolean {
    return (this.byName.get(name) ?? []).some((period) => contains(period, ts))
  }
}

function contains(period: Period, ts: number): boolean {
  const local = localTime(period.zone, ts)
  const inAny = (ranges: Array<[number, number]>, value: number): boolean =>
    ranges.length === 0 || ranges.some(([from, to]) => value >= from && value <= to)
  if (
    period.times.length > 0 &&
    !period.times.some(([from, to]) => local.minute >= from && local.minute < to)
  )
    return false
  if (!inAny(period.weekdays, local.weekday)) return false
  if (!inAny(period.months, local.month)) return false
  if (!inAny(period.years, local.year)) return false
  if (period.daysOfMonth.length > 0) {
    const daysInMonth = new Date(Date.UTC(local.year, local.month, 0)).getUTCDate()
    // Negative days count from the month's end (-1 is its last day), as in Alertmanager.
    const day = (d: number): number => (d < 0 ? daysInMonth + d + 1 : d)
    if (!period.daysOfMonth.some(([from, to]) => local.day >= day(from) && local.day <= day(to))) return false
  }
  return true
}

interface LocalTime {
  year: number
  month: number
  day: number
  weekday: number
  minute: number
}

function localTime(zone: Intl.DateTimeFormat, ts: number): LocalTime {
  const parts: Record<string, string> = {}
  for (const part of zone.formatToParts(ts)) parts[part.type] = part.value
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf((parts.weekday ?? '').toLowerCase()),
    minute: (Number(parts.hour) % 24) * 60 + Number(parts.minute),
  }
}

function parsePeriod(config: TimeIntervalConfig, where: string): Period {
  let zone: Intl.DateTimeFormat
  try {
    zone = new Intl.DateTimeFormat('en-US', {
      timeZone: config.location ?? 'UTC',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'long',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    })
  } catch {
    throw bad(`${where}: unknown location ${config.location ?? ''} (an IANA time zone such as Asia/Shanghai)`)
  }
  return {
    times: (config.times ?? []).map(({ start_time, end_time }) => {
      const from = minuteOfDay(start_time, where)
      const to = minuteOfDay(end_time, where)
      if (!(to > from)) throw bad(`${where}: end_time ${end_time} must be after start_time ${start_time}`)
      return [from, to]
    }),
    weekdays: (config.weekdays ?? []).map((r) => range(r, where, 'weekday', (v) => named(v, WEEKDAYS, 0))),
    months: (config.months ?? []).map((r) =>
      range(r, where, 'month', (v) => named(v, MONTHS, 1) ?? inRange(v, 1, 12)),
    ),
    daysOfMonth: (config.days_of_month ?? []).map((r) =>
      range(r, where, 'day of month', (v) => {
        const n = inRange(v, -31, 31)
        return n === 0 ? undefined : n
      }),
    ),
    years: (config.years ?? []).map((r) => range(r, where, 'year', (v) => inRange(v, 1, 9999))),
    zone,
  }
}

function minuteOfDay(text: string, where: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text)
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN
  if (!match || Number(match[2]) > 59 || minutes > 24 * 60)
    throw bad(`${where}: ${JSON.stringify(text)} is not a time of day HH:MM (00:00 to 24:00)`)
  return minutes
}

/** `monday:friday`, `1:5`, `-3:-1` or one value. */
function range(
  text: string,
  where: string,
  what: string,
  value: (v: string) => number | undefined,
): [number, number] {
  const [first, second, ...rest] = text.toLowerCase().split(':')
  const from = first === undefined ? undefined : value(first.trim())
  const to = second === undefined ? from : value(second.trim())
  if (rest.length > 0 || from === undefined || to === undefined)
    throw bad(`${where}: ${JSON.stringify(text)} is not a ${what} or a range of them`)
  // -3:-1 is fine; 5:1 and 1:-1 mixes are refused where they cannot be ordered.
  if (Math.sign(from) === Math.sign(to) && to < from) throw bad(`${where}: ${text} ends before it starts`)
  return [from, to]
}

function named(value: string, names: readonly string[], base: number): number | undefined {
  const i = names.indexOf(value)
  return i < 0 ? undefined : i + base
}

function inRange(value: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(value)) return undefined
  const n = Number(value)
  return n >= min && n <= max ? n : undefined
}

function bad(message: string): ArgusError {
  return new ArgusError('ARGUS_ERR_CONFIG', message)
}
