import type { RowBinaryType } from '../../storage/row-binary.js'

/**
 * Reads RowBinary rows back, written from ClickHouse's format description rather than from the
 * encoder, so a test compares the encoder against the format and not against itself.
 */
export function readRowBinary(bytes: Buffer, types: readonly RowBinaryType[]): unknown[][] {
  let at = 0
  const varint = (): number => {
    let value = 0
    let shift = 0
    for (;;) {
      const byte = bytes[at++] as number
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
      shift += 7
    }
  }
  const string = (): string => {
    const length = varint()
    const text = bytes.toString('utf8', at, at + length)
    at += length
    return text
  }
  const rows: unknown[][] = []
  while (at < bytes.length) {
    const row: unknown[] = []
    for (const type of types) {
      if (type === 'String') row.push(string())
      else if (type === 'UInt16') {
        row.push(bytes.readUInt16LE(at))
        at += 2
      } else if (type === 'UInt64' || type === 'DateTime64(3)') {
        row.push(Number(bytes.readBigUInt64LE(at)))
        at += 8
      } else if (type === 'Float64') {
        row.push(bytes.readDoubleLE(at))
        at += 8
      } else {
        const map: Record<string, string> = {}
        for (let n = varint(); n > 0; n--) map[string()] = string()
        row.push(map)
      }
    }
    rows.push(row)
  }
  return rows
}
