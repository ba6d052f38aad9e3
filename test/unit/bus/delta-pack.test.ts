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

  it('decodes packs of more distinct field sets than it keeps record makers for', () => {
    // 600 packs, each of its own field names: makers are forgotten and made again as needed.
    for (let round = 0; round < 2; round++)
      for (let n = 0; n < 600; n++) {
        const records = [
          { [`f${n}`]: n, shared: 'x' },
          { [`f${n}`]: n + 1, shared: 'x', [`g${n}`]: true },
          { shared: 'y' },
        ]
        expect(decodeDeltaPack(encodeDeltaPack(records) as Buffer)).toEqual(records)
      }
  })

  it('keeps repeated values the same objects, and refuses malformed packs', async () => {
    const labels = { app: 'cart' }
    const decoded = decodeDeltaPack(
      encodeDeltaPack([
        { labels, n: 1 },
        { labels, n: 2 },
      ]) as Buffer,
    ) as Array<{ labels: object }>
    expect(decoded[1]!.labels).toBe(decoded[0]!.labels)
    const { Packr } = await import('msgpackr')
    const pack = (value: unknown) => new Packr({ useRecords: false }).pack(value)
    expect(() => decodeDeltaPack(pack([['a'], 1, 1]))).toThrow('no previous value')
    expect(() => decodeDeltaPack(pack([['a'], 2, 0, 'x']))).toThrow('names fields the pack does not have')
    expect(() => decodeDeltaPack(pack([['__proto__'], 1, 0, {}]))).toThrow('__proto__')
    expect(() => decodeDeltaPack(pack([['a', 'b'], 3, 0, 'x']))).toThrow('truncated')
  })
})
