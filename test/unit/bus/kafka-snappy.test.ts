import { compressSync } from 'snappy'
import { describe, expect, it } from 'vitest'
import { snappyCodec } from '../../../bus/kafka-snappy.js'

/** snappy-java's stream format, as a Java producer writes it: header, then (length, block) pairs. */
function xerialFrame(blocks: Buffer[]): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
  const parts = blocks.flatMap((block) => {
    const compressed = compressSync(block)
    const length = Buffer.alloc(4)
    length.writeInt32BE(compressed.length)
    return [length, compressed]
  })
  return Buffer.concat([header, ...parts])
}

describe('kafka snappy codec', () => {
  const codec = snappyCodec()
  const batch = Buffer.from(
    JSON.stringify(Array.from({ length: 500 }, (_, n) => ({ n, line: `GET /a/${n}` }))),
  )

  it('round-trips a record batch, smaller than it was', async () => {
    const compressed = await codec.compress({ buffer: batch })
    expect(compressed.length).toBeLessThan(batch.length / 2)
    expect((await codec.decompress(compressed)).equals(batch)).toBe(true)
  })

  it('reads the framing Java producers write, block by block', async () => {
    const framed = xerialFrame([batch.subarray(0, 1000), batch.subarray(1000)])
    expect((await codec.decompress(framed)).equals(batch)).toBe(true)
  })

  it('refuses a truncated frame and data that is not snappy', async () => {
    const framed = xerialFrame([batch])
    await expect(codec.decompress(framed.subarray(0, framed.length - 10))).rejects.toThrow(/truncated/)
    await expect(codec.decompress(Buffer.from('definitely not snappy data'))).rejects.toThrow()
  })
})
