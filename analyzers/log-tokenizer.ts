/**
 * A log message as the template miner compares it: variable-looking parts masked as `<*>`, split
 * into tokens. `tokenizeByMasks` is the definition (masks, then a split); `tokenize` computes the
 * same tokens in one scan of the message, which is what every ingested log line pays.
 */

export const WILDCARD = '<*>'

/** A UUID: one of the masks, and what the scan checks a word without digits for. */
const UUID_SOURCE = String.raw`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`

/**
 * Generic variable shapes, most specific first, each with a character it cannot match without.
 * Masking only ever writes `<*>`, so a character absent from the message stays absent while the
 * masks run, and that mask's pass is skipped (hot path: most lines hold no UUID, address or hex).
 */
const MASKS: ReadonlyArray<{ pattern: RegExp; needs: RegExp }> = [
  // Dates and times: `Thu Aug 04 15:29:45 PDT 2005`, `Aug 4`, `15:29:45.123 +0200`.
  {
    pattern:
      /\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}\b(?:,?\s+\d{4}\b)?/g,
    needs: /\d/,
  },
  { pattern: /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s*(?:[A-Z]{3,4}\b|[+-]\d{2}:?\d{2}\b))?/g, needs: /:/ },
  { pattern: new RegExp(UUID_SOURCE, 'gi'), needs: /-/ },
  { pattern: /(\/?\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d+)?)\b/g, needs: /\./ },
  { pattern: /\b0x[0-9a-f]+\b/gi, needs: /0x/i },
  { pattern: /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, needs: /\d/ },
  { pattern: /(?<![A-Za-z0-9_])[-+]?\d+(?:\.\d+)?(?![A-Za-z0-9_])/g, needs: /\d/ },
]

/** Replaces variable-looking parts of a message with `<*>`. */
export function maskVariables(message: string): string {
  let masked = message
  for (const { pattern, needs } of MASKS) if (needs.test(message)) masked = masked.replace(pattern, WILDCARD)
  return masked
}

/**
 * A device name (eth0, ee0, sda1): letters and one digit. Left as a word, so like other words it is
 * a constant until several different ones were seen in its place.
 */
const DEVICE_NAME = /^[a-z]{2,4}[0-9]$/

/** Units of size, time and rate that follow a number. */
const UNITS = new Set(
  'B KB MB GB TB PB KiB MiB GiB TiB kB b kb mb gb bytes ns us µs ms s sec secs m min mins h hr hrs'.split(
    ' ',
  ),
)

const LONGEST_UNIT = Math.max(...[...UNITS].map((unit) => unit.length))

/**
 * The tokens of a message, built word by word: a unit after a value joins the value (`93.0 B` and
 * `5.4 KB` are one kind of size), and a run of values is one list whatever its length (`delete
 * blk_1 blk_2 blk_3`).
 */
class TokenList {
  readonly tokens: string[] = []
  private previous: string | undefined
  private previousKept: string | undefined

  add(token: string): void {
    // The length first: a Set lookup hashes the token, a new string every time.
    const isUnitOfValue = this.previous === WILDCARD && token.length <= LONGEST_UNIT && UNITS.has(token)
    this.previous = token
    if (isUnitOfValue) return
    const continuesList = token === WILDCARD && this.previousKept === WILDCARD
    this.previousKept = token
    if (!continuesList) this.tokens.push(token)
  }
}

/**
 * What `tokenize` returns, defined as masking then splitting: on whitespace, on `=`, `,` and `;`,
 * which glue values to keys and list items (they stay as tokens of their own), and on dot leaders
 * (`instruction......1`). Brackets and colons stay inside their tokens: `LOCAL(0),` and
 * `10.1.2.3,` are then both one variable. A word with digits in it (host an123, block blk_-42,
 * v001) names an instance, not an event, unless it is a short device name (eth0); so is a word
 * around a masked part (blk_-<*>).
 */
export function tokenizeByMasks(message: string): string[] {
  let text = maskVariables(message)
  if (GLUE_OR_LEADER.test(text)) text = text.replace(DOT_LEADER, ' ').replace(GLUE, ' $& ')
  const list = new TokenList()
  let start = -1
  let digits = false
  let letters = false
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32
    if (!isWhitespace(c)) {
      if (start < 0) {
        start = i
        digits = false
        letters = false
      }
      if (isDigit(c)) digits = true
      else if (isLetter(c)) letters = true
      continue
    }
    if (start < 0) continue
    const part = text.slice(start, i)
    start = -1
    list.add(
      part !== WILDCARD && ((digits && letters && !DEVICE_NAME.test(part)) || part.includes(WILDCARD))
        ? WILDCARD
        : part,
    )
  }
  return list.tokens
}

const GLUE_OR_LEADER = /[=,;]|\.\./
const DOT_LEADER = /\.{2,}/g
const GLUE = /[=,;]/g

/**
 * Masks that span words (dates, times with their zone) can only match where these do; a message
 * with either goes through `tokenizeByMasks`, everything else through the scan.
 */
const DATE_HINT = /(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d/
const TIME_HINT = /\d:\d\d:\d\d/
const UUID = new RegExp(UUID_SOURCE, 'i')
/**
 * `tokenizeByMasks` in one scan, without building the masked text. Masks other than dates and
 * times never span a separator (whitespace, glue, dot leader), and a word they touch becomes `<*>`
 * whole, so what matters per word is whether any of them matches in it:
 * - with letters and digits it is `<*>` anyway (unless a device name, which no mask matches);
 * - with digits only, every mask that can match (number, address, all-digit UUID) implies the number
 *   mask does, which matches exactly when some run of digits has no letter, digit or `_` on either
 *   side;
 * - without digits, only a UUID of the letters a-f can;
 * - a word that holds `<*>` already is a value, as after masking.
 * A message where a date or time may be goes the long way.
 */
export function tokenize(message: string): string[] {
  const list = new TokenList()
  const length = message.length
  let start = -1
  let digits = false
  let letters = false
  let hyphen = false
  let angle = false
  let number = false
  let inRun = false
  let runOpen = false
  let mayHoldDate = false
  let mayHoldTime = false
  for (let i = 0; i <= length; i++) {
    const c = i < length ? message.charCodeAt(i) : 32
    if (c >= 97 && c <= 122) {
      // A lower-case letter, most of any log line: the one case that needs none of the tests below.
      if (start < 0) {
        start = i
        digits = hyphen = angle = number = inRun = false
      } else if (inRun) inRun = false
      letters = true
      continue
    }
    const glue = c === 61 || c === 44 || c === 59 // = , ;
    const leader = c === 46 && i + 1 < length && message.charCodeAt(i + 1) === 46
    if (!glue && !leader && !isWhitespace(c)) {
      if (start < 0) {
        start = i
        digits = letters = hyphen = angle = number = inRun = false
      }
      if (isDigit(c)) {
        if (!inRun) {
          inRun = true
          runOpen = i === start || !isWordChar(message.charCodeAt(i - 1))
        }
        digits = true
        continue
      }
      if (inRun) {
        inRun = false
        if (runOpen && !isWordChar(c)) number = true
      }
      if (isLetter(c)) {
        letters = true
        if (c <= 90 && i + 2 < length && isMonthAt(message, c, i)) mayHoldDate = true
      } else if (c === 45) hyphen = true
      else if (c === 60) angle = true
      else if (c === 58 && i > 0 && isDigit(message.charCodeAt(i - 1))) mayHoldTime = true
      continue
    }
    if (start >= 0) {
      if (inRun && runOpen) number = true
      let token: string
      if (digits && letters) token = isDeviceName(message, start, i) ? message.slice(start, i) : WILDCARD
      else if (digits && number) token = WILDCARD
      else {
        token = message.slice(start, i)
        if (
          (angle && token.includes(WILDCARD)) ||
          (hyphen && !digits && token.length >= 36 && UUID.test(token))
        )
          token = WILDCARD
      }
      list.add(token)
      start = -1
    }
    if (glue) list.add(c === 61 ? '=' : c === 44 ? ',' : ';')
    else if (leader) while (i + 1 < length && message.charCodeAt(i + 1) === 46) i++
  }
  if ((mayHoldDate && DATE_HINT.test(message)) || (mayHoldTime && TIME_HINT.test(message)))
    return tokenizeByMasks(message)
  return list.tokens
}

/** `DEVICE_NAME.test(text.slice(start, end))` without making the string. */
export function isDeviceName(text: string, start = 0, end = text.length): boolean {
  const length = end - start
  if (length < 3 || length > 5 || !isDigit(text.charCodeAt(end - 1))) return false
  for (let i = start; i < end - 1; i++) {
    const c = text.charCodeAt(i)
    if (c < 97 || c > 122) return false
  }
  return true
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
/** What `\w` matches without the u flag: the neighbours a number mask may not have. */
const isWordChar = (c: number): boolean => isDigit(c) || isLetter(c) || c === 95

/** Whether a token has a digit in it (`/\d/.test`, as a char-code loop: it runs for every token). */
export function hasDigit(token: string): boolean {
  for (let i = 0; i < token.length; i++) if (isDigit(token.charCodeAt(i))) return true
  return false
}

/** What `\s` matches (ECMAScript WhiteSpace and LineTerminator), as a char code test. */
function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13)
  if (c < 160) return false
  return (
    c === 160 ||
    c === 5760 ||
    (c >= 8192 && c <= 8202) ||
    c === 8232 ||
    c === 8233 ||
    c === 8239 ||
    c === 8287 ||
    c === 12288 ||
    c === 65279
  )
}

/**
 * Whether a month's abbreviation (Jan..Dec) starts at `i`, whose char code is `c`: a test on char
 * codes, as the scan runs it for every upper-case letter (a Set lookup of the three codes there was
 * a fifth of the scan's time).
 */
function isMonthAt(text: string, c: number, i: number): boolean {
  const b = text.charCodeAt(i + 1)
  if (b < 97) return false
  const d = text.charCodeAt(i + 2)
  switch (c) {
    case 74: // J: Jan Jun Jul
      return (b === 97 && d === 110) || (b === 117 && (d === 110 || d === 108))
    case 70: // F: Feb
      return b === 101 && d === 98
    case 77: // M: Mar May
      return b === 97 && (d === 114 || d === 121)
    case 65: // A: Apr Aug
      return (b === 112 && d === 114) || (b === 117 && d === 103)
    case 83: // S: Sep
      return b === 101 && d === 112
    case 79: // O: Oct
      return b === 99 && d === 116
    case 78: // N: Nov
      return b === 111 && d === 118
    case 68: // D: Dec
      return b === 101 && d === 99
    default:
      return false
  }
}
