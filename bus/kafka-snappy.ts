import { compress, uncompress, uncompressSync } from 'snappy'

/** The stream header snappy-java (xerial) writes: Java producers' snappy batches start with it. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
/** Magic, then two big-endian int32 versions. */
const XERIAL_HEADER_BYTES = 16

/** Reads xerial framing: after the header, blocks of (int32 length, raw snappy block). */
function uncompressXerial(buffer: Buffer): Buffer {
  const blocks: Buffer[] = []
  let at = XERIAL_HEADER_BYTES
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new Error('truncated snappy-java block header')
    const length = buffer.readInt32BE(at)
    at += 4
    if (length < 0 || at + length > buffer.length) throw new Error('truncated snappy-java block')
    blocks.push(uncompressSync(buffer.subarray(at, at + length)) as Buffer)
    at += length
  }
  return Buffer.concat(blocks)
}

/**
 * Kafka's snappy codec for kafkajs (which ships gzip only), on the native `snappy` package that
 * remote_write already uses: compression runs on libuv's thread pool, off the event loop. Writes
 * raw snappy, which snappy-java (the broker, Java consumers) reads as well as its own framing;
 * reads both, so batches from Java producers decode too.
 */
export const snappyCodec = () => ({
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compress(encoder.buffer)
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    if (buffer.length >= XERIAL_HEADER_BYTES && buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC))
      return uncompressXerial(buffer)
    return (await uncompress(buffer)) as Buffer
  },
})
