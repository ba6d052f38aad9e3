import { describe, expect, it } from 'vitest'
import { decodeDeltaPack, encodeDeltaPack } from '../../../bus/delta-pack.js'

describe('delta packs', () => {
  it('gives back fields with any name, and records of several shapes in one pack', () => {
    const names = [
      'a"b',
      'c\\d',
      'e\u2028f',
      '0',
      '12',
      'constructor',
      'toString',
      '${x}',
      '`',
      "'); throw 1; ('",
    ]
    const records = Array.from({ length: 40 }, (_, n) =>
      Object.fromEntries(names.filter((_, i) => (n + i) % 3 !== 0).map((name, i) => [name, `${n}-${i}`])),
    )
    const decoded = decodeDeltaPack(encodeDeltaPack(records) as Buffer)
    expect(decoded).toEqual(records)
    for (const record of decoded) expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
  })
})
