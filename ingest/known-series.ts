import { StreamIdHasher } from '../core/index.js'

interface Entry<T> {
  /** The series' labels as they were on the wire, to tell a hash collision from the same series. */
  bytes: Buffer
  value: T
}

/**
 * Series a sender keeps sending, found by the raw bytes of their labels so that a known series
 * costs a hash and a byte comparison instead of decoding its label strings again: a Prometheus
 * sends each series' same labels every scrape round. What was decoded from them (`T`) is shared by
 * every sample of the series, so it must not be changed.
 *
 * Bounded by two generations: a lookup moves a series to the young one, and when the young one is
 * full the old one is dropped. Series sent at least once per generation stay; one sent once goes.
 */
export class KnownSeries<T> {
  private young = new Map<number, Entry<T>>()
  private old = new Map<number, Entry<T>>()
  private readonly hasher = new StreamIdHasher()

  constructor(
    private readonly perGeneration: number,
    /** Longer label bytes are not remembered: they would make the memory bound a large one. */
    private readonly maxLabelBytes = 1024,
  ) {}

  /** The hash `find` and `remember` take for the labels at `wire[start..end)`. */
  hashOf(wire: Buffer, start: number, end: number): number {
    return this.hasher.begin().addBytes(wire, start, end).numericId()
  }

  find(hash: number, wire: Buffer, start: number, end: number): T | undefined {
    const young = this.young.get(hash)
    if (young !== undefined && sameBytes(young.bytes, wire, start, end)) return young.value
    const old = this.old.get(hash)
    if (old === undefined || !sameBytes(old.bytes, wire, start, end)) return undefined
    this.keep(hash, old)
    return old.value
  }

  remember(hash: number, wire: Buffer, start: number, end: number, value: T): void {
    if (end - start > this.maxLabelBytes) return
    // A copy: the request's buffer is not kept alive by the series it named.
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
  }
}

const sameBytes = (known: Buffer, wire: Buffer, start: number, end: number): boolean =>
  known.length === end - start && wire.compare(known, 0, known.length, start, end) === 0
