import { StreamIdHasher } from '../core/index.js'

interface Entry<T> {
  /** The bytes as they were on the wire, to tell a hash collision from the same bytes. */
  bytes: Buffer
  value: T
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
  /** The entry found or remembered last. */
  private last: Entry<T> | undefined
  private readonly hasher = new StreamIdHasher()

  constructor(
    private readonly perGeneration: number,
    /** Longer bytes are not remembered: they would make the memory bound a large one. */
    private readonly maxBytes = 1024,
  ) {}

  /** The hash `find` and `remember` take for the bytes at `wire[start..end)`. */
  hashOf(wire: Buffer, start: number, end: number): number {
    return this.hasher.begin().addBytes(wire, start, end).numericId()
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
    const young = this.young.get(hash)
    if (young !== undefined && sameBytes(young.bytes, wire, start, end)) {
      this.last = young
      return young.value
    }
    const old = this.old.get(hash)
    if (old === undefined || !sameBytes(old.bytes, wire, start, end)) return undefined
    this.keep(hash, old)
    return old.value
  }

  remember(hash: number, wire: Buffer, start: number, end: number, value: T): void {
    if (end - start > this.maxBytes) return
    // A copy: the request's buffer is not kept alive by what it named.
    this.keep(hash, { bytes: Buffer.from(wire.subarray(start, end)), value })
  }

  get size(): number {
    return this.young.size + this.old.size
  }

  private keep(hash: number, entry: Entry<T>): void {
    if (this.young.size >= this.perGeneration) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(hash, entry)
    this.last = entry
  }
}

const sameBytes = (known: Buffer, wire: Buffer, start: number, end: number): boolean =>
  known.length === end - start && wire.compare(known, 0, known.length, start, end) === 0
