import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRfc3339 } from '../../../ingest/rfc3339-time.js'

const pad = (value: number, width: number) => String(value).padStart(width, '0')

/** RFC 3339 timestamps as shippers write them, with any fraction and offset, sometimes out of range. */
const timestamp = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constant('Z'),
      fc
        .record({
          sign: fc.constantFrom('+', '-'),
          hours: fc.integer({ min: 0, max: 24 }),
          minutes: fc.integer({ min: 0, max: 60 }),
        })
        .map(({ sign, hours, minutes }) => `${sign}${pad(hours, 2)}:${pad(minutes, 2)}`),
    ),
  })
  .map(
    (t) =>
      `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}` +
      `${t.fraction === undefined ? '' : `.${t.fraction}`}${t.zone}`,
  )

describe('parseRfc3339', () => {
  it('answers what Date.parse answers wherever it answers', () => {
    fc.assert(
      fc.property(timestamp, (text) => {
        const parsed = parseRfc3339(text)
        if (parsed !== undefined) expect(parsed).toBe(Date.parse(text))
      }),
      { numRuns: 20_000 },
    )
  })

  it('reads the forms CRI, fluent-bit and fluentd write, fractions cut to milliseconds', () => {
    expect(parseRfc3339('2026-12-01T09:00:00.123456789Z')).toBe(Date.UTC(2026, 11, 1, 9, 0, 0, 123))
    expect(parseRfc3339('2026-12-01T09:00:00.999999999Z')).toBe(Date.UTC(2026, 11, 1, 9, 0, 0, 999))
    expect(parseRfc3339('2026-12-01T09:00:00Z')).toBe(Date.UTC(2026, 11, 1, 9))
    expect(parseRfc3339('2026-12-01T17:00:00.5+08:00')).toBe(Date.UTC(2026, 11, 1, 9, 0, 0, 500))
    expect(parseRfc3339('2024-02-29T23:59:59.12-05:30')).toBe(Date.UTC(2024, 2, 1, 5, 29, 59, 120))
  })

  it('leaves other forms and out-of-range fields to Date.parse', () => {
    for (const text of [
      '2024-02-30T00:00:00Z',
      '2026-12-01T09:00:00.0001000000Z',
      '2026-12-01T24:00:00Z',
      '2026-12-01T09:00:00.Z',
      '2026-12-01t09:00:00Z',
      '2026-12-01 09:00:00Z',
      '2026-12-01T09:00:00',
      '2026-12-01T09:00:00+0800',
      '2026-12-01T09:00:00Zx',
      '+002026-12-01T09:00:00Z',
      'Tue, 01 Dec 2026 09:00:00 GMT',
      '',
    ])
      expect(parseRfc3339(text)).toBeUndefined()
  })
})
