import { describe, expect, it } from 'vitest'
import { levelFromField, levelFromMessage } from '../../../ingest/log-level.js'
import { seededRandom } from '../../helpers/seeded-random.js'

describe('levelFromMessage', () => {
  it.each([
    ['level="error" msg=x', 'error'],
    ["lvl='warn' msg=x", 'warn'],
    ['ts=1 Severity=CRITICAL', 'fatal'],
    ['ERROR_CODE=5 INFO started', 'info'], // ERROR_CODE is one word, not the level ERROR
    ['x level= INFO y', 'info'], // no word after the key: the next level word counts
    ['level=verbose WARN', 'unknown'], // the first match decides, as before
    ['level=constructor', 'unknown'], // an inherited key is no level
    ['[Warning] disk', 'warn'],
    ['W0102 10:00:00.000000 1 x.go:1] slow', 'warn'],
    ['GET /healthz 200', 'unknown'],
  ])('reads %j as %s', (message, level) => {
    expect(levelFromMessage(message)).toBe(level)
  })

  it('agrees with matching the whole pattern and reading its captures, on 20,000 generated lines', () => {
    // The detection before it read the word from the match's captures; it now finds where the
    // match starts and reads the word from there (no match array per line). Same answers.
    const pattern =
      /\b(?:level|lvl|severity)=["']?(\w+)|\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL|CRIT|PANIC)\b/i
    const words = [
      'level=',
      'LVL=',
      'severity="',
      "level='",
      'info',
      'WARN',
      'Error',
      'ERRORS',
      'err_x',
      'fatal',
      'x',
      '"',
      '=',
      '_',
      '9',
      'panic',
      'crit',
      'notice',
    ]
    const { next } = seededRandom(7)
    for (let i = 0; i < 20_000; i++) {
      const line = Array.from(
        { length: 1 + Math.floor(next() * 6) },
        () => words[Math.floor(next() * words.length)],
      ).join(next() < 0.7 ? ' ' : '')
      const match = pattern.exec(line)
      const word = match?.[1] ?? match?.[2]
      // The word's level by the same table a level field is read with (no second copy of it here).
      const expected = (word && levelFromField(word)) || 'unknown'
      expect([line, levelFromMessage(line)]).toEqual([line, expected])
    }
  })
})

describe('levelFromField', () => {
  it('reads words and numbers, and no inherited key', () => {
    expect(levelFromField(' Warning ')).toBe('warn')
    expect(levelFromField(50)).toBe('error')
    expect(levelFromField('toString')).toBeUndefined()
  })
})
