import { ArgusError } from '../core/index.js'

const bad = (message: string): ArgusError => new ArgusError('ARGUS_ERR_BAD_INPUT', message)

const EMPTY = Buffer.alloc(0)

/**
 * A cursor over protobuf wire bytes, reading the few field types a WriteRequest has. Hand-written
 * for the hot loop: its reads inline into it, and a timestamp comes back as a number, not a Long.
 */
export class ProtobufWire {
  buf: Buffer = EMPTY
  /** A view of `buf`, for reads of fixed-width values (and for KnownBytes to hash). */
  view: DataView = new DataView(new ArrayBuffer(0))
  pos = 0
  len = 0

  /** Lets go of the buffer read last (a request body), so the cursor does not keep it alive. */
  release(): void {
    this.reset(EMPTY)
  }

  reset(buf: Buffer): void {
    this.buf = buf
    this.pos = 0
    this.len = buf.length
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** A varint of at most 32 bits (tags and lengths). */
  varint32(): number {
    // Tags and short lengths take one byte: small enough to inline into the loops that read them.
    const byte = this.buf[this.pos]
    if (byte !== undefined && byte < 0x80) {
      this.pos++
      return byte
    }
    return this.longVarint32()
  }

  private longVarint32(): number {
    const buf = this.buf
    const end = Math.min(this.len, this.pos + 5)
    let value = 0
    let shift = 0
    for (let pos = this.pos; pos < end; pos++, shift += 7) {
      const byte = buf[pos] as number
      value |= (byte & 0x7f) << shift
      if (byte < 0x80) {
        this.pos = pos + 1
        return value >>> 0
      }
    }
    throw bad(end === this.len ? 'a varint runs past the end of the body' : 'a varint is longer than 32 bits')
  }

  /**
   * An int64 varint as a number. A millisecond timestamp needs 41 bits; anything beyond 2^53 (a
   * negative time is ten bytes) fails the caller's check.
   */
  int64(): number {
    const buf = this.buf
    let value = 0
    let scale = 1
    for (let pos = this.pos; pos < this.len && pos < this.pos + 10; pos++) {
      const byte = buf[pos] as number
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        this.pos = pos + 1
        return value
      }
      scale *= 128
    }
    throw bad('a timestamp is not a valid varint')
  }

  double(): number {
    if (this.pos + 8 > this.len) throw bad('a double runs past the end of the body')
    const value = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return value
  }

  /** Reads a length prefix; returns where the field it prefixes ends. */
  lengthEnd(): number {
    const length = this.varint32()
    const end = this.pos + length
    if (end > this.len) throw bad('a field runs past the end of the body')
    return end
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.int64Bytes()
        break
      case 1:
        this.pos += 8
        break
      case 2:
        this.pos = this.lengthEnd()
        break
      case 5:
        this.pos += 4
        break
      default:
        throw bad(`wire type ${wireType} is not supported`)
    }
    if (this.pos > this.len) throw bad('a field runs past the end of the body')
  }

  /** Steps over a varint of up to ten bytes. */
  private int64Bytes(): void {
    const end = Math.min(this.len, this.pos + 10)
    while (this.pos < end) if ((this.buf[this.pos++] as number) < 0x80) return
    throw bad('a varint runs past its end')
  }
}
