import { describe, expect, it } from 'vitest'
import {
  encodePointRows,
  encodeRowBinary,
  rowBinaryLayout,
  type RowBinaryLayout,
} from '../../../storage/row-binary.js'
import { readRowBinary } from '../../helpers/row-binary-reader.js'
import { seededRandom } from '../../helpers/seeded-random.js'

const lines: RowBinaryLayout = rowBinaryLayout([
  ['bus_source', 'String'],
  ['bus_partition', 'UInt16'],
  ['bus_offset', 'UInt64'],
  ['ts', 'DateTime64(3)'],
  ['value', 'Float64'],
  ['message', 'String'],
  ['attributes', 'Map(String, String)'],
])

const roundTrip = (rows: unknown[][], layout = lines): unknown[][] =>
  readRowBinary(encodeRowBinary(rows, layout).bytes, layout.types)

describe('RowBinary encoding', () => {
  it('reads back every value as written, at the edges of each type', () => {
    const rows = [
      ['', 0, 0, 0, 0, '', {}],
      [
        'kafka:abc',
        65_535,
        Number.MAX_SAFE_INTEGER,
        1_700_000_000_123,
        -1.5e-300,
        'a'.repeat(127),
        { k: 'v' },
      ],
      ['x', 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_VALUE, 'b'.repeat(128), { 'ключ 🔑': 'значение 日本' }],
      ['x', 1, 2 ** 32 - 1, 3, Infinity, 'ünïcödé 日本語 🚀'.repeat(20), { a: '', b: 'two\nlines' }],
      ['x', 1, 5, 3, -Infinity, 'nul \u0000 byte, tab \t, newline \n, quote "', {}],
      ['x', 1, 5, 3, 0.1 + 0.2, 'é'.repeat(10_000), {}],
      ['x', 1, 5, 3, 7, 'c'.repeat(70_000), {}],
    ]
    expect(roundTrip(rows)).toEqual(rows)
    const [nan] = roundTrip([['', 0, 0, 0, NaN, '', {}]])
    expect(Number.isNaN(nan?.[4])).toBe(true)
  })

  it('writes a lone surrogate as the replacement character, as any UTF-8 encoder does', () => {
    const [row] = roundTrip([['', 0, 0, 0, 0, 'broken \ud800 pair', {}]])
    expect(row?.[5]).toBe('broken \ufffd pair')
  })

  it('reads back random text of every length and script (seeded)', () => {
    const random = seededRandom(42)
    const alphabet = ['a', 'Z', '0', ' ', '\n', '\u0000', 'é', 'ß', '日', '🚀', '"', '\\', '\u007f', '\u0080']
    const text = (length: number) =>
      Array.from({ length }, () => alphabet[Math.floor(random.next() * alphabet.length)]).join('')
    const rows = Array.from({ length: 2_000 }, (_, i) => [
      text(Math.floor(random.next() * 8)),
      i % 65_536,
      Math.floor(random.next() * Number.MAX_SAFE_INTEGER),
      1_700_000_000_000 + i,
      (random.next() - 0.5) * 10 ** Math.floor(random.next() * 40 - 20),
      text(Math.floor(random.next() * (i % 10 === 0 ? 3_000 : 200))),
      Object.fromEntries(
        Array.from({ length: i % 4 }, (_, k) => [`${text(3)}${k}`, text(Math.floor(random.next() * 40))]),
      ),
    ])
    expect(roundTrip(rows)).toEqual(rows)
  })

  it('keeps each block its own bytes when later blocks are larger than the scratch buffer', () => {
    const small = encodeRowBinary([['a', 1, 1, 1, 1, 'first', {}]], lines)
    const copy = Buffer.from(small.bytes)
    const big = Array.from({ length: 400 }, (_, i) => ['b', 2, i, i, i, 'x'.repeat(10_000), {}])
    expect(roundTrip(big)).toEqual(big) // 4 MB: the scratch buffer grows past its first 1 MiB
    expect(small.bytes.equals(copy)).toBe(true)
    expect(small.count).toBe(1)
  })

  it('refuses a value its column cannot hold, naming the column, instead of misaligning the rows', () => {
    const good: unknown[] = ['s', 1, 1, 1, 1, 'm', {}]
    const cases: Array<[number, unknown, RegExp]> = [
      [0, 7, /bus_source \(String\) cannot hold 7/],
      [1, 65_536, /bus_partition \(UInt16\)/],
      [1, 1.5, /bus_partition \(UInt16\)/],
      [2, -1, /bus_offset \(UInt64\) cannot hold -1/],
      [2, 2 ** 53, /bus_offset \(UInt64\)/],
      [3, '2024-01-01', /ts \(DateTime64\(3\)\)/],
      [4, '1.5', /value \(Float64\)/],
      [5, undefined, /message \(String\)/],
      [6, { n: 1 }, /attributes \(Map\(String, String\)\) cannot hold \{"n":1\}$/],
      [5, 500, /message \(String\) cannot hold 500$/],
      // At most a line of the value: a whole log line would not help the reader of the error.
      [5, { long: 'y'.repeat(500) }, /message \(String\) cannot hold \{"long":"y{71}\.\.\.$/],
      [6, null, /attributes \(Map\(String, String\)\)/],
    ]
    for (const [column, value, message] of cases) {
      const row = [...good]
      row[column] = value
      expect(() => encodeRowBinary([good, row], lines)).toThrow(message)
      expect(() => encodeRowBinary([good, row], lines)).toThrow(
        expect.objectContaining({ code: 'ARGUS_ERR_INTERNAL' }),
      )
    }
    expect(() => encodeRowBinary([['s', 1]], lines)).toThrow(/2 values for 7 columns/)
    // A failed block leaves nothing behind for the next one.
    expect(roundTrip([good])).toEqual([good])
  })

  it('encodes point columns as the rows they stand for', () => {
    const points = rowBinaryLayout([
      ['bus_source', 'String'],
      ['bus_partition', 'UInt16'],
      ['bus_offset', 'UInt64'],
      ['series_id', 'String'],
      ['rollup_key', 'UInt64'],
      ['ts', 'DateTime64(3)'],
      ['value', 'Float64'],
    ])
    const { next } = seededRandom(21)
    const blocks = Array.from({ length: 5 }, (_, b) => {
      const shared = [b % 2 ? 'kafka:x/argus.signals.metric-batches' : '', b, 2 ** 40 + b]
      const series = Array.from(
        { length: 1 + Math.floor(next() * 40) },
        (_, s) => `${s.toString(16).padStart(16, '0')}${'é'.repeat(s % 3)}${s === 7 ? 'x'.repeat(300) : ''}`,
      )
      const seriesKeys = series.map(() => Math.floor(next() * Number.MAX_SAFE_INTEGER))
      const n = Math.floor(next() * 3000)
      const seriesIndex = Array.from({ length: n }, () => Math.floor(next() * series.length))
      const ts = Array.from({ length: n }, (_, i) => 1_764_400_000_000 + i * 15_000)
      const value = Array.from({ length: n }, () => (next() - 0.5) * 1e12)
      return { shared, series, seriesKeys, seriesIndex, ts, value }
    })
    const rows = blocks.flatMap((block) =>
      block.ts.map((ts, i) => [
        ...block.shared,
        block.series[block.seriesIndex[i] as number],
        block.seriesKeys[block.seriesIndex[i] as number],
        ts,
        block.value[i],
      ]),
    )
    const encoded = encodePointRows(blocks, points)
    expect(encoded.count).toBe(rows.length)
    expect(encoded.bytes.equals(encodeRowBinary(rows, points).bytes)).toBe(true)
    expect(readRowBinary(encoded.bytes, points.types)).toEqual(rows)
  })

  it('refuses point columns that do not line up or do not fit, and a layout not ending in series, time and value', () => {
    const points = rowBinaryLayout([
      ['series_id', 'String'],
      ['rollup_key', 'UInt64'],
      ['ts', 'DateTime64(3)'],
      ['value', 'Float64'],
    ])
    const block = {
      shared: [],
      series: ['a', 'b'],
      seriesKeys: [7, 9],
      seriesIndex: [0, 1],
      ts: [1, 2],
      value: [0.5, 1.5],
    }
    expect(readRowBinary(encodePointRows([block], points).bytes, points.types)).toEqual([
      ['a', 7, 1, 0.5],
      ['b', 9, 2, 1.5],
    ])
    const refusals: Array<[object, RegExp]> = [
      [{ seriesIndex: [0, 2] }, /series_id \(String\) cannot hold undefined/],
      [{ ts: [1] }, /differ in length/],
      [{ ts: [1, -2] }, /ts \(DateTime64\(3\)\) cannot hold -2/],
      [{ value: [0.5, '1'] }, /value \(Float64\) cannot hold "1"/],
      [{ series: ['a', 7] }, /series_id \(String\) cannot hold 7/],
      [{ seriesKeys: [7] }, /not one key per series/],
      [{ seriesKeys: [7, -1] }, /rollup_key \(UInt64\) cannot hold -1/],
      [{ shared: ['x'] }, /1 shared values for 0 columns/],
    ]
    for (const [change, message] of refusals)
      expect(() => encodePointRows([{ ...block, ...change }], points)).toThrow(message)
    expect(() => encodePointRows([block], lines)).toThrow(
      /end in a String, a UInt64, a DateTime64\(3\) and a Float64/,
    )
  })
})
