interface Entry<T> {
  /** The bytes as they were on the wire, to tell a hash collision from the same bytes. */
  bytes: Buffer
  value: T
  /** The next entry under the same hash: colliding bytes are chained, not evicted. */
  next: Entry<T> | undefined
}

/**
 * What a sender keeps sending, found by its raw bytes so that a known part costs a hash and a byte
 * comparison instead of being decoded again: a Prometheus sends each series' same labels every
 * scrape round (remote-write.ts), a log shipper each container's same pod metadata on every line
 * (packed-entries.ts). What was decoded from them (`T`) is shared by everything that repeats them,
 * so it must not be changed.
 *
 * Bounded by two generations: a lookup moves an entry to the young one, and when the young one is
 * full the old one is dropped. Bytes sent at least once per generation stay; bytes sent once go.
 */
export class KnownBytes<T> {
  private young = new Map<number, Entry<T>>()
  private old = new Map<number, Entry<T>>()
  private youngCount = 0
  private oldCount = 0
  /** The entry found or remembered last. */
  private last: Entry<T> | undefined

  constructor(
    private readonly perGeneration: number,
    /** Longer bytes are not remembered: they would make the memory bound a large one. */
    private readonly maxBytes = 1024,
  ) {}

  /**
   * The hash `find` and `remember` take for the bytes at `[start, end)` of `view`, a view of the
   * buffer they will be given (the caller makes it once per buffer: a remote_write body is hashed
   * once per series). 30 bits, so that a Map keeps it unboxed. It reads eight bytes a step (the
   * labels of a series are ~150 bytes and hashed for every sample); the byte comparison in `find`
   * makes a lookup exact whatever the hash.
   */
  hashOf(view: DataView, start: number, end: number): number {
    let h = Math.imul(end - start, 0x9e3779b1)
    let i = start
    for (; i + 8 <= end; i += 8) {
      h = Math.imul(h ^ view.getInt32(i, true), 0x5bd1e995)
      h = Math.imul(((h << 13) | (h >>> 19)) ^ view.getInt32(i + 4, true), 0x85ebca6b)
    }
    for (; i < end; i++) h = Math.imul(h ^ view.getUint8(i), 0x01000193)
    // The finaliser of MurmurHash3: every input bit reaches the low 30 bits kept.
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h & 0x3fffffff
  }

  /**
   * The entry found or remembered last, when `wire[start..end)` are its bytes: no hash needed when
   * the same bytes come again and again (one container's lines in a chunk).
   */
  repeated(wire: Buffer, start: number, end: number): T | undefined {
    const last = this.last
    return last !== undefined && sameBytes(last.bytes, wire, start, end) ? last.value : undefined
  }

  find(hash: number, wire: Buffer, start: number, end: number): T | undefined {
    const young = inChain(this.young.get(hash), wire, start, end)
    if (young !== undefined) {
      this.last = young
      return young.value
    }
    const old = inChain(this.old.get(hash), wire, start, end)
    if (old === undefined) return undefined
    this.keep(hash, old.bytes, old.value)
    return old.value
  }

  /**
   * Remembers what `wire[start..end)` decoded to. Bytes already in the young generation keep their
   * one entry, given the new value: a chunk whose lines share a new pod's metadata remembers it for
   * every line, and one entry per line would fill the generation with copies.
   */
  remember(hash: number, wire: Buffer, start: number, end: number, value: T): void {
    if (end - start > this.maxBytes) return
    const known = inChain(this.young.get(hash), wire, start, end)
    if (known !== undefined) {
      known.value = value
      this.last = known
      return
    }
    // A copy: the request's buffer is not kept alive by what it named.
    this.keep(hash, Buffer.from(wire.subarray(start, end)), value)
  }

  get size(): number {
    return this.youngCount + this.oldCount
  }

  private keep(hash: number, bytes: Buffer, value: T): void {
    if (this.youngCount >= this.perGeneration) {
      this.old = this.young
      this.oldCount = this.youngCount
      this.young = new Map()
      this.youngCount = 0
    }
    // A new entry (not the old one moved): the old generation's chains stay as they were.
    const entry: Entry<T> = { bytes, value, next: this.young.get(hash) }
    this.young.set(hash, entry)
    this.youngCount++
    this.last = entry
  }
}

function inChain<T>(
  entry: Entry<T> | undefined,
  wire: Buffer,
  start: number,
  end: number,
): Entry<T> | undefined {
  for (; entry !== undefined; entry = entry.next) if (sameBytes(entry.bytes, wire, start, end)) return entry
  return undefined
}

const sameBytes = (known: Buffer, wire: Buffer, start: number, end: number): boolean =>
  known.length === end - start && wire.compare(known, 0, known.length, start, end) === 0
