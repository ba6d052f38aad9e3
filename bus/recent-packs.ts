import type { KafkaMessage } from 'kafkajs'
import type { Counter } from '../core/index.js'

interface DecodedPack {
  value: Buffer
  records: unknown[]
  /** Consumer groups still to read it in this process. */
  readersLeft: number
}

/**
 * Packs decoded lately in this process, by topic, partition and offset. The consumer groups of one
 * process (the storage writer's and the analyzers') read the same messages, and decoding a pack
 * allocates every record again, most of what the consumers' garbage collection then has to do. A
 * group that reads a pack another group just decoded takes the same records: consumers do not
 * change records (the in-process bus hands one object to every group too).
 *
 * A pack is matched on its bytes as well, so a recreated topic's reused offsets cannot give stale
 * records. It is let go once every local group has read it, and in any case when the packs held
 * pass `maxRecords` records (oldest first): a group that lags far behind decodes its own.
 */
export class RecentPacks {
  private readonly packs = new Map<string, DecodedPack>()
  private held = 0

  constructor(
    private readonly maxRecords: number,
    /** Records by outcome: `shared` (another group's decoding) or `decoded`. */
    private readonly counted?: Counter,
  ) {}

  /**
   * The records of `message`: another group's decoding when it matches, else `decode()`'s, kept
   * for the other `readers - 1` groups of the topic.
   */
  records(
    topic: string,
    partition: number,
    message: KafkaMessage,
    readers: number,
    decode: () => unknown[],
  ): unknown[] {
    const value = message.value
    if (readers < 2 || !value) return decode()
    const key = `${topic}\u0000${partition}\u0000${message.offset}`
    const known = this.packs.get(key)
    if (known && known.value.equals(value)) {
      if (--known.readersLeft <= 0) this.forget(key, known)
      this.counted?.inc({ outcome: 'shared' }, known.records.length)
      return known.records
    }
    const records = decode()
    this.counted?.inc({ outcome: 'decoded' }, records.length)
    if (known) this.forget(key, known)
    this.packs.set(key, { value, records, readersLeft: readers - 1 })
    this.held += records.length
    for (const [oldest, pack] of this.packs) {
      if (this.held <= this.maxRecords) break
      this.forget(oldest, pack)
    }
    return records
  }

  get size(): number {
    return this.packs.size
  }

  private forget(key: string, pack: DecodedPack): void {
    this.packs.delete(key)
    this.held -= pack.records.length
  }
}
