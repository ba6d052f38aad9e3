/**
 * Hashes the fields that identify a log stream or a metric series into its id: 64 bits (two
 * FNV-1a lanes with different primes) as 16 hex characters. Among a million ids the chance that
 * two are equal is about 1 in 30 million; two that were would swap envelopes.
 *
 * Fields are fed one at a time, so no identity string is built per row (hot path: the writer
 * hashes every log line and sample). Not reentrant: begin, add..., id run to completion.
 */
export class StreamIdHasher {
  private a = 0
  private b = 0

  begin(): this {
    this.a = 0x811c9dc5
    this.b = 0x9747b28c
    return this
  }

  /** Adds one field, and a separator no field holds, so ("ab", "c") and ("a", "bc") differ. */
  add(field: string): this {
    let a = this.a
    let b = this.b
    for (let i = 0; i < field.length; i++) {
      const c = field.charCodeAt(i)
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x5bd1e995)
    }
    this.a = Math.imul(a, 0x01000193)
    this.b = Math.imul(b, 0x5bd1e995)
    return this
  }

  /** Adds raw bytes (`bytes[start..end)`) as one field: for identities still in wire form. */
  addBytes(bytes: Uint8Array, start: number, end: number): this {
    let a = this.a
    let b = this.b
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x5bd1e995)
    }
    this.a = Math.imul(a, 0x01000193)
    this.b = Math.imul(b, 0x5bd1e995)
    return this
  }

  /** The same 64 bits cut to 53, as a number: a Map key that needs no string. */
  numericId(): number {
    return (this.a >>> 0) * 0x200000 + (this.b >>> 11)
  }

  id(): string {
    const a = this.a
    const b = this.b
    // By table: Number#toString(16) takes a slow path for values beyond 2^30.
    return (
      HEX[a >>> 24]! +
      HEX[(a >>> 16) & 255]! +
      HEX[(a >>> 8) & 255]! +
      HEX[a & 255]! +
      HEX[b >>> 24]! +
      HEX[(b >>> 16) & 255]! +
      HEX[(b >>> 8) & 255]! +
      HEX[b & 255]!
    )
  }
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
