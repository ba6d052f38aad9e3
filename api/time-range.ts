import Type from 'typebox'
import { ArgusError } from '../core/index.js'

/** The `from` and `to` query parameters every time-ranged route takes, read by `parseTimeRange`. */
export const timeRangeProperties = {
  from: Type.Optional(
    Type.String({ description: 'epoch ms, RFC 3339, or relative like -15m (default: 1h before `to`)' }),
  ),
  to: Type.Optional(Type.String({ description: 'epoch ms, RFC 3339, `now` or relative (default: now)' })),
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/**
 * Parses a time bound as users write them: epoch milliseconds, RFC 3339, `now`, or relative
 * to now (`-15m`, `now-2h`). Errors name the parameter.
 */
export function parseTimeBound(value: string, field: string, now: number): number {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  if (text === 'now') return now
  const relative = /^(?:now)?-(\d+)([smhdw])$/.exec(text)
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2] as string] as number)
  const parsed = Date.parse(text)
  if (Number.isNaN(parsed)) {
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `${field} must be epoch milliseconds, RFC 3339, "now" or relative like "-15m"; got "${value}"`,
    )
  }
  return parsed
}

export function parseTimeRange(
  query: { from?: string | undefined; to?: string | undefined },
  defaultSpanMs: number,
  now = Date.now(),
): { fromTs: number; toTs: number } {
  const toTs = query.to === undefined ? now : parseTimeBound(query.to, 'to', now)
  const fromTs = query.from === undefined ? toTs - defaultSpanMs : parseTimeBound(query.from, 'from', now)
  if (fromTs >= toTs)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `from (${fromTs}) must be before to (${toTs})`)
  return { fromTs, toTs }
}
