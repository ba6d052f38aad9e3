import { sleep } from '../core/index.js'

type Entry<A> = { answer: A } | { pending: Promise<A | undefined> }

export type Recalled<A> = { answer: A } | { stillPending: true } | undefined

/**
 * Remembers, per request digest, requests whose resend must not be processed again: the answer of
 * a partly rejected request (its good records are stored), and the pending outcome of a request
 * whose publish was unconfirmed (it may land after the client was told to retry). Bounded: the
 * oldest entry goes first.
 */
export class ResendMemory<A> {
  private readonly entries = new Map<string, Entry<A>>()

  constructor(private readonly capacity: number) {}

  get empty(): boolean {
    return this.entries.size === 0
  }

  remember(key: string, answer: A): void {
    this.put(key, { answer })
  }

  /** `outcome` settles with the answer if the work landed after all, or undefined if it did not. */
  rememberPending(key: string, outcome: Promise<A | undefined>): void {
    const entry = { pending: outcome }
    this.put(key, entry)
    // Settle in place unless the entry was evicted or replaced meanwhile.
    const settle = (answer: A | undefined): void => {
      if (this.entries.get(key) !== entry) return
      if (answer === undefined) this.entries.delete(key)
      else this.entries.set(key, { answer })
    }
    void outcome.then(settle, () => settle(undefined))
  }

  /**
   * What a resend of `key` gets: the remembered answer; `stillPending` when the first attempt is
   * still unsettled after `waitMs`; undefined when there is nothing to remember (process it).
   */
  async recall(key: string, waitMs: number): Promise<Recalled<A>> {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if ('answer' in entry) return { answer: entry.answer }
    const settled = await Promise.race([
      entry.pending.catch(() => undefined),
      sleep(waitMs).then(() => entry),
    ])
    if (settled === entry) return { stillPending: true }
    return settled === undefined ? undefined : { answer: settled as A }
  }

  private put(key: string, entry: Entry<A>): void {
    this.entries.delete(key)
    this.entries.set(key, entry)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string)
  }
}
