import { freezeDeep, setBounded } from '../core/index.js'
import { isJsonObject } from './json-object.js'

const parseWhole = (line: string): unknown => JSON.parse(line) as unknown

/** The member fluentd's kubernetes_metadata filter and fluent-bit's kubernetes filter add to a record, last. */
const KUBERNETES_MEMBER = '"kubernetes":'

const isJsonWhitespace = (code: number): boolean =>
  code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d

/**
 * The record before `end` (where the shared tail starts), as an object, when the text there is an
 * object's members followed by a comma (or the object's opening brace alone); undefined otherwise.
 */
function parseHead(line: string, end: number): Record<string, unknown> | undefined {
  let at = end - 1
  while (at >= 0 && isJsonWhitespace(line.charCodeAt(at))) at--
  if (at === 0 && line.charCodeAt(0) === 0x7b) return {}
  if (at <= 0 || line.charCodeAt(at) !== 0x2c) return undefined
  try {
    // Ends in a brace, so a successful parse is an object.
    return JSON.parse(`${line.slice(0, at)}}`) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** The shared tail's members as one frozen object; null when they cannot be shared. */
function parseTail(tail: string): Readonly<Record<string, unknown>> | null {
  let members: unknown
  try {
    members = JSON.parse(`{${tail}`)
  } catch {
    return null
  }
  // Object.assign would set a prototype from a "__proto__" member where JSON.parse makes a field.
  if (!isJsonObject(members) || Object.hasOwn(members, '__proto__')) return null
  return freezeDeep(members) ? members : null
}

/**
 * Pod metadata members by their text, parsed and frozen (null: not shareable), most recent last.
 * Shared across bodies: a container's lines come in many bodies, and bodies that mix containers
 * repeat each one's block on its lines. Bounded in entries and in each key's length.
 */
const parsedTails = new Map<string, Readonly<Record<string, unknown>> | null>()
const MAX_TAILS = 2048
const MAX_TAIL_LENGTH = 4096

/** The tail's members, from the cache or parsed into it. */
function sharedTail(tail: string): Readonly<Record<string, unknown>> | null {
  const known = parsedTails.get(tail)
  if (known !== undefined) return known
  const parsed = parseTail(tail)
  // A copy of its own as the key: a slice would keep its whole line alive in the cache.
  setBounded(parsedTails, Buffer.from(tail).toString(), parsed, MAX_TAILS)
  return parsed
}

/**
 * JSON.parse for the lines of an NDJSON body, sharing the pod metadata they repeat.
 *
 * fluentd's kubernetes_metadata filter and fluent-bit's kubernetes filter end every line with the
 * container's `"kubernetes":{...}` member. A line ending in such a member has only the text before
 * it parsed; the member is parsed once per distinct text (kept in a bounded cache across bodies),
 * frozen and given to every line that ends in it, as the Forward decoder shares a repeated pod
 * metadata block: 0.90 instead of 1.45 µs per `bench:ingest` line of a one-container body, and the
 * normaliser and later stages find the pod's metadata by reference. A line ending in the previous
 * line's member is recognised by comparing the ends (a body of one container's lines, as
 * fluent-bit's http output sends a chunk per log file); any other looks its member up by text.
 *
 * The records are what JSON.parse makes of the lines (key order, a repeated key's last value, a
 * `__proto__` field), the shared members frozen; a line that is not JSON still fails with
 * JSON.parse's error, as the line is then parsed whole.
 */
export function ndjsonLineParser(): (line: string) => unknown {
  let lastTail = ''
  let lastShared: Readonly<Record<string, unknown>> | null = null
  return (line) => {
    let tail = lastTail
    let shared = lastShared
    if (tail.length === 0 || line.length <= tail.length || !line.endsWith(tail)) {
      const at = line.lastIndexOf(KUBERNETES_MEMBER)
      if (at <= 0 || line.length - at > MAX_TAIL_LENGTH) return parseWhole(line)
      tail = line.slice(at)
      shared = sharedTail(tail)
      lastTail = tail
      lastShared = shared
    }
    if (shared === null) return parseWhole(line)
    const record = parseHead(line, line.length - tail.length)
    return record === undefined ? parseWhole(line) : Object.assign(record, shared)
  }
}
