import type { LogLevel } from '../core/index.js'

// A Map: an object's inherited keys (`constructor`, `toString`) would be levels too.
const LEVEL_WORDS = new Map<string, LogLevel>(
  Object.entries({
    trace: 'trace',
    debug: 'debug',
    dbg: 'debug',
    info: 'info',
    information: 'info',
    informational: 'info',
    notice: 'info',
    warn: 'warn',
    warning: 'warn',
    error: 'error',
    err: 'error',
    severe: 'error',
    fatal: 'fatal',
    critical: 'fatal',
    crit: 'fatal',
    panic: 'fatal',
    emerg: 'fatal',
    alert: 'fatal',
  } satisfies Record<string, LogLevel>),
)

/** Syslog numeric severities (RFC 5424) and common numeric levels (pino/bunyan: 10..60). */
function numericLevel(value: number): LogLevel {
  if (value >= 10) {
    if (value >= 60) return 'fatal'
    if (value >= 50) return 'error'
    if (value >= 40) return 'warn'
    if (value >= 30) return 'info'
    if (value >= 20) return 'debug'
    return 'trace'
  }
  if (value <= 2) return 'fatal'
  if (value === 3) return 'error'
  if (value === 4) return 'warn'
  if (value <= 6) return 'info'
  return 'debug'
}

export function levelFromField(value: unknown): LogLevel | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return numericLevel(value)
  if (typeof value !== 'string') return undefined
  return LEVEL_WORDS.get(value.trim().toLowerCase())
}

/** The keys of `level=word`. */
const LEVEL_KEY = '(?:level|lvl|severity)='
// The first level word in the head of a line: `2024-01-01 ERROR ...`, `[WARN]`, `level=error`, `E0102 ...` (klog).
const LEVEL_IN_TEXT = new RegExp(
  `\\b${LEVEL_KEY}["']?(\\w+)|\\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL|CRIT|PANIC)\\b`,
  'i',
)
const KLOG_PREFIX = /^([IWEF])\d{4} \d{2}:\d{2}:\d{2}/
const KLOG_LEVELS: Record<string, LogLevel> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' }

/** Detects a level from the message text when the record has no level field. */
export function levelFromMessage(message: string): LogLevel {
  const head = message.length > 200 ? message.slice(0, 200) : message
  const klog = KLOG_PREFIX.exec(head)
  if (klog) return KLOG_LEVELS[klog[1] as string] ?? 'unknown'
  // search() finds where the match starts without building a match array and its captures (most
  // of what detecting a level allocated, for every line); the word is then read from there.
  const at = head.search(LEVEL_IN_TEXT)
  if (at === -1) return 'unknown'
  let start = at
  KEY_AT.lastIndex = at
  if (KEY_AT.test(head)) {
    start = KEY_AT.lastIndex
    const quote = head.charCodeAt(start)
    if (quote === 34 || quote === 39) start++
  }
  let end = start
  while (end < head.length && isWordChar(head.charCodeAt(end))) end++
  return LEVEL_WORDS.get(head.slice(start, end).toLowerCase()) ?? 'unknown'
}

/** The key of `level=word` (the first alternative of LEVEL_IN_TEXT), when the match starts with one. */
const KEY_AT = new RegExp(LEVEL_KEY, 'iy')

/** Whether a character is one of regular expressions' `\w`. */
function isWordChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95
  )
}
