/**
 * Epoch milliseconds of an RFC 3339 timestamp in its common form (`2026-12-01T09:00:00.123456789Z`
 * or with a `+08:00` offset), read digit by digit: a sixth of what Date.parse takes, on every line
 * of CRI and fluent-bit logs. Anything else (another form, an out-of-range field) is undefined, for
 * the caller to hand to Date.parse; where this answers, it answers what Date.parse would (a
 * property test compares them): fractions past milliseconds are cut, not rounded, and fractions
 * of more than nine digits (past nanoseconds) are left to it.
 */
export function parseRfc3339(text: string): number | undefined {
  const length = text.length
  if (length < 20) return undefined
  if (
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== UPPER_T ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON
  )
    return undefined
  const year = digits(text, 0, 4)
  const month = digits(text, 5, 7)
  const day = digits(text, 8, 10)
  const hour = digits(text, 11, 13)
  const minute = digits(text, 14, 16)
  const second = digits(text, 17, 19)
  // Out-of-range fields (a 30 February, hour 24) are left to Date.parse, which has its own answers.
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined
  let at = 19
  let millis = 0
  if (text.charCodeAt(at) === DOT) {
    at++
    let count = 0
    for (; at < length; at++, count++) {
      const digit = text.charCodeAt(at) - ZERO
      if (digit < 0 || digit > 9) break
      if (count < 3) millis = millis * 10 + digit
    }
    // Past nine digits Date.parse reads the fraction its own way: left to it.
    if (count === 0 || count > 9) return undefined
    if (count < 3) millis *= count === 1 ? 100 : 10
  }
  let offsetMinutes = 0
  const zone = text.charCodeAt(at)
  if (zone === UPPER_Z) {
    if (at + 1 !== length) return undefined
  } else if (zone === PLUS || zone === DASH) {
    if (at + 6 !== length || text.charCodeAt(at + 3) !== COLON) return undefined
    const hours = digits(text, at + 1, at + 3)
    const minutes = digits(text, at + 4, at + 6)
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return undefined
    offsetMinutes = (zone === PLUS ? 1 : -1) * (hours * 60 + minutes)
  } else return undefined
  const days = daysFromCivil(year, month, day)
  return ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil): Date.UTC's sum, without its call. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

const ZERO = 48
const DASH = 45
const PLUS = 43
const COLON = 58
const DOT = 46
const UPPER_T = 84
const UPPER_Z = 90

/** The number the decimal digits in text[from, to) spell; -1 when one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0
  for (let at = from; at < to; at++) {
    const digit = text.charCodeAt(at) - ZERO
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}
