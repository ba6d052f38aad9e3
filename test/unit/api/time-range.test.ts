import { describe, expect, it } from 'vitest'
import { parseTimeBound, parseTimeRange } from '../../../api/index.js'

const now = Date.parse('2026-01-01T12:00:00Z')

describe('time bounds', () => {
  it('reads epoch ms, RFC 3339, now and relative times', () => {
    expect(parseTimeBound('1700000000000', 'from', now)).toBe(1700000000000)
    expect(parseTimeBound('2026-01-01T11:00:00Z', 'from', now)).toBe(now - 3_600_000)
    expect(parseTimeBound('now', 'to', now)).toBe(now)
    expect(parseTimeBound('-15m', 'from', now)).toBe(now - 900_000)
    expect(parseTimeBound('now-2d', 'from', now)).toBe(now - 2 * 86_400_000)
  })

  it('names the parameter in errors and checks the order', () => {
    expect(() => parseTimeBound('last tuesday', 'from', now)).toThrow(/from must be/)
    expect(() => parseTimeRange({ from: 'now', to: '-1h' }, 3_600_000, now)).toThrow(/must be before/)
    expect(parseTimeRange({}, 3_600_000, now)).toEqual({ fromTs: now - 3_600_000, toTs: now })
  })
})
