import { describe, expect, it } from 'vitest'
import { tokenize, tokenizeByMasks } from '../../../analyzers/log-tokenizer.js'

/** A small seeded generator, so a failing line can be found again. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff
    return state / 0x7fffffff
  }
}

/**
 * Pieces that meet every mask and separator rule at their edges: numbers with signs, decimals and
 * underscores, addresses, UUIDs (hex letters only, digits only), dates and times, units, glue,
 * dot leaders, kinds of white space, a literal `<*>`, device names.
 */
const PIECES = [
  '0', '1', '42', '123', '1.5', '-42', '+7', 'a', 'f', 'x', '0x', 'A', 'Z', '_', '-', '+', '.', '..',
  '...', ':', '/', '=', ',', ';', ' ', '  ', '\t', '\u00a0', '\u2028', '<*>', '<', '>', '*', 'eth0',
  'sda1', 'Aug', 'Jan ', 'Mon', ' 4', ' 2005', '15:29:45', '12:00:00', 'PDT', '+0200', 'deadbeef',
  '3f2a9c1e-77b2-4c0d-9a55-0e1f2d3c4b5a', 'abcdefab-abcd-abcd-abcd-abcdefabcdef',
  '12345678-1234-1234-1234-123456789012', '10.0.3.7', '10.0.3.7:8080', '/10.1.2.3', 'ms', 'KB', 'B',
  'é', 'blk_', 'user', 'ERROR', 'GET', 'status', '(', ')', '[', ']', '"',
] // prettier-ignore
const CHARS = '0123456789abcdefxyzABCDEFJMNOSXZ_-+.:/=,;<>* \t'

describe('log tokenizer', () => {
  it('scans to the same tokens as masking then splitting, on generated lines', () => {
    const next = random(20261201)
    const lines: string[] = []
    for (let n = 0; n < 20_000; n++) {
      let line = ''
      for (let k = 1 + Math.floor(next() * 14); k > 0; k--) line += PIECES[Math.floor(next() * PIECES.length)]
      lines.push(line)
      line = ''
      for (let k = 1 + Math.floor(next() * 30); k > 0; k--) line += CHARS[Math.floor(next() * CHARS.length)]
      lines.push(line)
    }
    const differing = lines.filter(
      (line) => JSON.stringify(tokenize(line)) !== JSON.stringify(tokenizeByMasks(line)),
    )
    expect(differing).toEqual([])
  })

  it('masks within words as the masks do, where a word has digits only or no digits', () => {
    // A run of digits next to `_` is no number; one clear of word characters is.
    expect(tokenize('code 5_ 1_2 _5-3 x')).toEqual(['code', '5_', '1_2', '<*>', 'x'])
    // A UUID of hex letters only is a value though it has no digit.
    expect(tokenize('trace abcdefab-abcd-abcd-abcd-abcdefabcdef done')).toEqual(['trace', '<*>', 'done'])
    expect(tokenize('via eth0 to sda1 and eth10')).toEqual(['via', 'eth0', 'to', 'sda1', 'and', '<*>'])
  })

  it('takes dates and times, which span words, with their zone or year as one value', () => {
    expect(tokenize('at Thu Aug 04 15:29:45 PDT 2005 ok')).toEqual(['at', '<*>', 'ok'])
    expect(tokenize('started 15:29:45.123 +0200 on node')).toEqual(['started', '<*>', 'on', 'node'])
    // A month name without a day after it, and an address with a port, are not dates or times.
    expect(tokenize('May proceed to 10.0.3.7:8080')).toEqual(['May', 'proceed', 'to', '<*>'])
  })

  it('notices every month, and only months, before a day', () => {
    const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')
    for (const month of months) expect(tokenize(`seen ${month} 4 ok`)).toEqual(['seen', '<*>', 'ok'])
    // Near misses: one letter off, or the wrong case.
    for (const word of ['Jab', 'Juk', 'Fez', 'Mat', 'Aur', 'Seq', 'Ocu', 'Nox', 'Dex', 'JAN', 'jan'])
      expect(tokenize(`seen ${word} 4 ok`)).toEqual(['seen', word, '<*>', 'ok'])
  })
})
