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
    // One flat string: concatenating per byte built a rope of cons strings (and was 4x slower).
    return String.fromCharCode(
      HEX[a >>> 28]!,
      HEX[(a >>> 24) & 15]!,
      HEX[(a >>> 20) & 15]!,
      HEX[(a >>> 16) & 15]!,
      HEX[(a >>> 12) & 15]!,
      HEX[(a >>> 8) & 15]!,
      HEX[(a >>> 4) & 15]!,
      HEX[a & 15]!,
      HEX[b >>> 28]!,
      HEX[(b >>> 24) & 15]!,
      HEX[(b >>> 20) & 15]!,
      HEX[(b >>> 16) & 15]!,
      HEX[(b >>> 12) & 15]!,
      HEX[(b >>> 8) & 15]!,
      HEX[(b >>> 4) & 15]!,
      HEX[b & 15]!,
    )
  }
}

/** The character codes of the hex digits 0-f. */
const HEX: readonly number[] = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0))
