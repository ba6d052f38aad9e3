import type { Unpackr } from 'msgpackr'
import { KnownBytes, freezeDeep } from '../core/index.js'
import {
  arrayCount,
  containerHeaderLength,
  isString,
  mapCount,
  skipValues,
  writeMapHeader,
} from './msgpack-walk.js'

/** Pod metadata blocks remembered per generation (see KnownBytes), and the longest remembered. */
const KNOWN_BLOCKS_PER_GENERATION = 10_000
const MAX_BLOCK_BYTES = 2048
const KUBERNETES = Buffer.from('kubernetes')

/** A decoded pod metadata block, shared by every record that repeats its bytes: frozen. */
type Block = Readonly<Record<string, unknown>>

/** Where an entry ends, and where its record holds its one `kubernetes` map (-1s when it has none to share). */
interface EntryLayout {
  end: number
  recordAt: number
  /** The record's pairs, and the length of its map header. */
  pairs: number
  headerLength: number
  pairStart: number
  blockStart: number
  blockEnd: number
}

/** The decoded entries of a PackedForward chunk, and the blocks to give their records. */
export interface DecodedEntries {
  items: unknown[]
  /** By entry: the shared `kubernetes` block its record's bytes were decoded without. */
  blocks: Array<Block | undefined>
  /** Entries whose block was decoded with them and may be remembered (see `remember`). */
  misses: Array<{ index: number; hash: number; start: number; end: number }>
}

/**
 * Decodes PackedForward entries, each `kubernetes` block (a pod's name, labels, annotations, ids,
 * image) once per distinct bytes: fluent-bit's kubernetes filter and fluentd's metadata plugin put
 * the same block on every line of a container, and it is most of an entry's bytes and of what
 * decoding it costs. Decoding and normalising a 620-byte entry with fluent-bit's full block took
 * 3.0-3.4 µs, and takes 1.9-2.0 when its container's lines come together (as fluent-bit sends
 * them, a chunk per tag) and 2.7 when 30 containers' lines are mixed.
 *
 * Each entry is walked (not decoded) to find its block. A block seen before is cut out of the
 * bytes msgpackr decodes, and its decoded object, frozen, is given to the record; a new one is
 * decoded with its record and then remembered. Records decode as before but for where
 * `kubernetes` sits among their keys.
 */
export class PackedEntriesDecoder {
  private readonly known = new KnownBytes<Block>(KNOWN_BLOCKS_PER_GENERATION, MAX_BLOCK_BYTES)

  constructor(private readonly unpacker: Unpackr) {}

  decode(packed: Buffer): DecodedEntries {
    const blocks: Array<Block | undefined> = []
    const misses: DecodedEntries['misses'] = []
    // The entries without the blocks found, allocated at the first; verbatim spans copied lazily.
    let out: Buffer | undefined
    let written = 0
    let copiedTo = 0
    let pos = 0
    // What KnownBytes hashes, made at the first block not repeated from the entry before.
    let view: DataView | undefined
    let index = 0
    while (pos < packed.length) {
      const layout = entryLayout(packed, pos)
      // A block too long to remember is decoded with its record, not hashed in vain.
      if (layout.pairStart >= 0 && layout.blockEnd - layout.blockStart <= MAX_BLOCK_BYTES) {
        const { blockStart, blockEnd } = layout
        let block = this.known.repeated(packed, blockStart, blockEnd)
        let hash = 0
        if (block === undefined) {
          view ??= new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
          hash = this.known.hashOf(view, blockStart, blockEnd)
          block = this.known.find(hash, packed, blockStart, blockEnd)
        }
        if (block === undefined) {
          misses.push({ index, hash, start: blockStart, end: blockEnd })
        } else {
          out ??= Buffer.allocUnsafe(packed.length)
          const { recordAt, headerLength } = layout
          written += packed.copy(out, written, copiedTo, recordAt)
          written = writeMapHeader(out, written, layout.pairs - 1, headerLength)
          written += packed.copy(out, written, recordAt + headerLength, layout.pairStart)
          copiedTo = blockEnd
          blocks[index] = block
        }
      }
      pos = layout.end
      index++
    }
    let source = packed
    if (out !== undefined) {
      written += packed.copy(out, written, copiedTo, packed.length)
      source = out.subarray(0, written)
    }
    const items = (this.unpacker.unpackMultiple(source) as unknown[] | undefined) ?? []
    if (items.length !== index) throw new Error(`${index} entries walked but ${items.length} decoded`)
    return { items, blocks, misses }
  }

  /** Remembers the block a missed entry's record decoded to (once it is final: textified). */
  remember(packed: Buffer, miss: DecodedEntries['misses'][number], decoded: unknown): void {
    if (freezeDeep(decoded)) this.known.remember(miss.hash, packed, miss.start, miss.end, decoded as Block)
  }
}

/** An entry with no block to share; the same shape as one with a block (this runs for every line). */
const noBlock = (end: number): EntryLayout => ({
  end,
  recordAt: -1,
  pairs: -1,
  headerLength: -1,
  pairStart: -1,
  blockStart: -1,
  blockEnd: -1,
})

/**
 * Walks the entry at `pos` once: where it ends and, when it is `[time, record, ...]` with a map
 * record of string keys and one `kubernetes` key whose value is a map, where that pair is.
 */
function entryLayout(bytes: Buffer, pos: number): EntryLayout {
  // Counts and offsets, not header objects: this runs for every line.
  const items = arrayCount(bytes, pos)
  if (items < 2) return noBlock(skipValues(bytes, pos, 1))
  const recordAt = skipValues(bytes, pos + containerHeaderLength(bytes[pos] as number), 1)
  const pairs = mapCount(bytes, recordAt)
  if (pairs < 0) return noBlock(skipValues(bytes, recordAt, items - 1))
  const headerLength = containerHeaderLength(bytes[recordAt] as number)
  let at = recordAt + headerLength
  let shareable = true
  let pairStart = -1
  let blockStart = -1
  let blockEnd = -1
  for (let pair = 0; pair < pairs; pair++) {
    const valueAt = skipValues(bytes, at, 1)
    const valueEnd = skipValues(bytes, valueAt, 1)
    const kubernetes = isString(bytes, at, KUBERNETES)
    // A key of another type could decode to "kubernetes" too, and of two the last would win:
    // leave such records whole.
    if (kubernetes === undefined || (kubernetes && pairStart >= 0)) shareable = false
    else if (kubernetes) {
      pairStart = at
      blockStart = valueAt
      blockEnd = valueEnd
    }
    at = valueEnd
  }
  // Items after the record are decoded (and ignored) as before.
  const end = skipValues(bytes, at, items - 2)
  if (!shareable || pairStart < 0 || mapCount(bytes, blockStart) < 0) return noBlock(end)
  return { end, recordAt, pairs, headerLength, pairStart, blockStart, blockEnd }
}
