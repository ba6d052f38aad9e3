import { Packr, Unpackr } from 'msgpackr'
import { isPlainObject, sameFlatValue } from '../core/index.js'
import { recordMaker, type RecordMaker } from './record-maker.js'

/**
 * A pack of records as the fields that differ from the record before it. The records of one
 * Kafka key come from one workload, mostly one pod: cluster, namespace, workload, pod, node,
 * source and labels repeat from line to line. Against msgpackr's record extension a
 * `bench:ingest` log line takes 120 bytes instead of 226 (27 instead of 30 once snappy-compressed)
 * and encodes in 0.8-0.9 µs instead of 1.1; a repeated field decodes as the previous record's
 * value, the same string or object, so decoding allocates less too.
 *
 * Layout, one MessagePack array: the field names, then per record its `present` and `same` bit
 * masks (bit i: field i is set; is equal to the previous record's, as `sameFlatValue` compares:
 * labels and workload references match, deeper objects are written again) and the values of the
 * fields present and not the same, in field order.
 */
const flatPacker = new Packr({ useRecords: false })
const flatUnpacker = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** Bits of a mask, kept below the sign bit so masks stay small positive integers. */
const MAX_FIELDS = 30

type PlainObject = Record<string, unknown>

/**
 * Encodes plain objects as above; undefined when a record is not a plain object, or the pack has
 * more than 30 field names or one named `__proto__` (the caller encodes those packs otherwise).
 * Fields set to undefined are left out, as JSON leaves them out.
 */
export function encodeDeltaPack(records: readonly unknown[]): Buffer | undefined {
  const names: string[] = []
  const indexOf = new Map<string, number>()
  const out: unknown[] = [names]
  let previous: unknown[] = []
  for (const record of records) {
    if (!isPlainObject(record)) return undefined
    const current: unknown[] = []
    let present = 0
    for (const name in record) {
      const value = record[name]
      if (value === undefined) continue
      let index = indexOf.get(name)
      if (index === undefined) {
        index = names.length
        // Assigning "__proto__" while decoding would set a prototype, not a field.
        if (index >= MAX_FIELDS || name === '__proto__') return undefined
        names.push(name)
        indexOf.set(name, index)
      }
      present |= 1 << index
      current[index] = value
    }
    const masksAt = out.length
    out.push(present, 0)
    let same = 0
    for (let index = 0; index < names.length; index++) {
      if ((present & (1 << index)) === 0) continue
      const value = current[index]
      if (previous[index] !== undefined && sameFlatValue(value, previous[index])) same |= 1 << index
      else out.push(value)
    }
    out[masksAt + 1] = same
    previous = current
  }
  return flatPacker.pack(out)
}

function malformed(why: string): Error {
  return new Error(`malformed delta pack: ${why}`)
}

/** The records of a delta pack; throws on a value that is not one. */
export function decodeDeltaPack(value: Buffer): unknown[] {
  const items = flatUnpacker.unpack(value) as unknown
  if (!Array.isArray(items)) throw malformed('not an array')
  const names = items[0] as unknown
  if (!Array.isArray(names) || names.length > MAX_FIELDS || names.some((n) => typeof n !== 'string'))
    throw malformed('no field names')
  if (names.includes('__proto__')) throw malformed('a field is named __proto__')
  const fields = names as string[]
  const allFields = fields.length === 0 ? 0 : 2 ** fields.length - 1
  const records: PlainObject[] = []
  // A pack's records mostly share one set of present fields: its maker is looked up once.
  const makersOfPack = new Map<number, RecordMaker>()
  let previous: unknown[] = []
  let at = 1
  while (at < items.length) {
    const present = items[at] as unknown
    const same = items[at + 1] as unknown
    at += 2
    if (!Number.isInteger(present) || !Number.isInteger(same)) throw malformed('a record has no masks')
    const presentBits = present as number
    const sameBits = same as number
    if (presentBits < 0 || presentBits > allFields || (sameBits & ~presentBits) !== 0 || sameBits < 0)
      throw malformed('a mask names fields the pack does not have')
    const current: unknown[] = new Array<unknown>(fields.length)
    for (let index = 0; index < fields.length; index++) {
      const bit = 1 << index
      if ((presentBits & bit) === 0) continue
      let field: unknown
      if ((sameBits & bit) !== 0) {
        if (!(index in previous)) throw malformed('no previous value to repeat')
        field = previous[index]
      } else {
        if (at >= items.length) throw malformed('truncated')
        field = items[at++]
      }
      current[index] = field
    }
    let make = makersOfPack.get(presentBits)
    if (make === undefined) {
      make = recordMaker(fields, presentBits)
      makersOfPack.set(presentBits, make)
    }
    records.push(make(current))
    previous = current
  }
  return records
}
