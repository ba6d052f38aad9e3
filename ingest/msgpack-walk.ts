// Walks MessagePack bytes without decoding them: where values end, and where a map's pairs are.
// For finding the parts of a Forward entry that repeat from line to line (see packed-entries.ts).
// Iterative, not recursive, so a deeply nested value cannot exhaust the stack; bounded by the
// bytes, since each value takes at least one.

/** Bytes that are not MessagePack, or end too soon. */
export class MsgpackWalkError extends Error {
  override name = 'MsgpackWalkError'
}

function need(bytes: Uint8Array, pos: number, count: number): void {
  if (pos + count > bytes.length) throw new MsgpackWalkError('msgpack value runs past the end')
}

const u16 = (bytes: Uint8Array, pos: number): number =>
  ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number)
const u32 = (bytes: Uint8Array, pos: number): number =>
  (bytes[pos] as number) * 0x1000000 +
  (((bytes[pos + 1] as number) << 16) | ((bytes[pos + 2] as number) << 8) | (bytes[pos + 3] as number))

/** Where the `count` values starting at `pos` end. */
export function skipValues(bytes: Uint8Array, pos: number, count = 1): number {
  let pending = count
  while (pending > 0) {
    need(bytes, pos, 1)
    const head = bytes[pos] as number
    pending--
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) {
      pos += 1
    } else if (head <= 0x8f) {
      pending += 2 * (head & 0x0f)
      pos += 1
    } else if (head <= 0x9f) {
      pending += head & 0x0f
      pos += 1
    } else if (head <= 0xbf) {
      pos += 1 + (head & 0x1f)
    } else if (head >= 0xdc) {
      // array16/32, map16/32: a map's pairs count twice.
      const wide = head === 0xdd || head === 0xdf
      need(bytes, pos, wide ? 5 : 3)
      const count = wide ? u32(bytes, pos + 1) : u16(bytes, pos + 1)
      pending += head >= 0xde ? 2 * count : count
      pos += wide ? 5 : 3
    } else {
      pos = skipScalar(bytes, pos, head)
    }
  }
  if (pos > bytes.length) throw new MsgpackWalkError('msgpack value runs past the end')
  return pos
}

/** Where the scalar at `pos` (a head below 0xdc that is not a fix type) ends. */
function skipScalar(bytes: Uint8Array, pos: number, head: number): number {
  switch (head) {
    case 0xc4:
    case 0xd9:
      need(bytes, pos, 2)
      return pos + 2 + (bytes[pos + 1] as number)
    case 0xc5:
    case 0xda:
      need(bytes, pos, 3)
      return pos + 3 + u16(bytes, pos + 1)
    case 0xc6:
    case 0xdb:
      need(bytes, pos, 5)
      return pos + 5 + u32(bytes, pos + 1)
    case 0xc7:
      need(bytes, pos, 2)
      return pos + 3 + (bytes[pos + 1] as number)
    case 0xc8:
      need(bytes, pos, 3)
      return pos + 4 + u16(bytes, pos + 1)
    case 0xc9:
      need(bytes, pos, 5)
      return pos + 6 + u32(bytes, pos + 1)
    case 0xcc:
    case 0xd0:
      return pos + 2
    case 0xcd:
    case 0xd1:
      return pos + 3
    case 0xca:
    case 0xce:
    case 0xd2:
      return pos + 5
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return pos + 9
    case 0xd4:
      return pos + 3
    case 0xd5:
      return pos + 4
    case 0xd6:
      return pos + 6
    case 0xd7:
      return pos + 10
    case 0xd8:
      return pos + 18
    default:
      throw new MsgpackWalkError(`0x${head.toString(16)} is not a msgpack type`)
  }
}

/**
 * How many items the container at `pos` holds when its first byte is one of its kind's (a fix
 * type from `fixBase`, or the 16- and 32-bit forms), or -1 when the value there is of another kind.
 */
function countOf(bytes: Uint8Array, pos: number, fixBase: number, head16: number, head32: number): number {
  need(bytes, pos, 1)
  const head = bytes[pos] as number
  if (head >= fixBase && head <= fixBase + 0x0f) return head & 0x0f
  if (head === head16) {
    need(bytes, pos, 3)
    return u16(bytes, pos + 1)
  }
  if (head === head32) {
    need(bytes, pos, 5)
    return u32(bytes, pos + 1)
  }
  return -1
}

/** How many pairs the map at `pos` holds, or -1 when the value there is not a map. */
export const mapCount = (bytes: Uint8Array, pos: number): number => countOf(bytes, pos, 0x80, 0xde, 0xdf)

/** How many items the array at `pos` holds, or -1 when the value there is not an array. */
export const arrayCount = (bytes: Uint8Array, pos: number): number => countOf(bytes, pos, 0x90, 0xdc, 0xdd)

/** The length of an array's or map's header, from its first byte. */
export const containerHeaderLength = (head: number): number =>
  head === 0xdc || head === 0xde ? 3 : head === 0xdd || head === 0xdf ? 5 : 1

/**
 * Whether the value at `pos` (already walked: its bytes are all there) is a string whose bytes are
 * `text`'s; undefined when it is not a string at all.
 */
export function isString(bytes: Uint8Array, pos: number, text: Uint8Array): boolean | undefined {
  const head = bytes[pos] as number
  let start: number
  let length: number
  if (head >= 0xa0 && head <= 0xbf) {
    start = pos + 1
    length = head & 0x1f
  } else if (head === 0xd9) {
    start = pos + 2
    length = bytes[pos + 1] as number
  } else if (head === 0xda) {
    start = pos + 3
    length = u16(bytes, pos + 1)
  } else if (head === 0xdb) {
    start = pos + 5
    length = u32(bytes, pos + 1)
  } else return undefined
  if (length !== text.length) return false
  for (let i = 0; i < length; i++) if (bytes[start + i] !== text[i]) return false
  return true
}

/** Writes a map header for `count` pairs in `length` bytes (the width of the header it replaces). */
export function writeMapHeader(out: Uint8Array, at: number, count: number, length: number): number {
  if (length === 1) {
    out[at] = 0x80 | count
  } else if (length === 3) {
    out[at] = 0xde
    out[at + 1] = count >>> 8
    out[at + 2] = count & 0xff
  } else {
    out[at] = 0xdf
    out[at + 1] = count >>> 24
    out[at + 2] = (count >>> 16) & 0xff
    out[at + 3] = (count >>> 8) & 0xff
    out[at + 4] = count & 0xff
  }
  return at + length
}
