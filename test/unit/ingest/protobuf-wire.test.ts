import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { ProtobufWire } from '../../../ingest/protobuf-wire.js'

const wireOf = (bytes: Uint8Array): ProtobufWire => {
  const wire = new ProtobufWire()
  wire.reset(Buffer.from(bytes))
  return wire
}

describe('ProtobufWire', () => {
  it('reads what protobufjs writes: varints of every width, int64 times, doubles', () => {
    const varints = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 32 - 1]
    const times = [1, 1_764_000_000_000, 2 ** 53 - 1]
    const writer = protobuf.Writer.create()
    for (const value of varints) writer.uint32(value)
    for (const value of times) writer.int64(value)
    writer.double(-0.125).double(Number.MAX_VALUE)
    const wire = wireOf(writer.finish())
    expect(varints.map(() => wire.varint32())).toEqual(varints)
    expect(times.map(() => wire.int64())).toEqual(times)
    expect([wire.double(), wire.double()]).toEqual([-0.125, Number.MAX_VALUE])
    expect(wire.pos).toBe(wire.len)
  })

  it('skips a field of each wire type it may meet, and refuses the groups it may not', () => {
    const writer = protobuf.Writer.create()
    writer.uint32(2 ** 40) // varint, wider than 32 bits
    writer.double(1) // 64-bit
    writer.bytes(Buffer.from('skipped')) // length-delimited
    writer.fixed32(7) // 32-bit
    writer.uint32(99)
    const wire = wireOf(writer.finish())
    for (const type of [0, 1, 2, 5]) wire.skip(type)
    expect(wire.varint32()).toBe(99)
    expect(() => wireOf(new Uint8Array([0])).skip(3)).toThrow(/wire type 3/)
  })

  it('refuses every read that would run past the end, with ARGUS_ERR_BAD_INPUT', () => {
    const bad = expect.objectContaining({ code: 'ARGUS_ERR_BAD_INPUT' })
    expect(() => wireOf(new Uint8Array([0x80, 0x80])).varint32()).toThrow(bad)
    expect(() => wireOf(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).varint32()).toThrow(bad)
    expect(() => wireOf(new Uint8Array([0x80])).int64()).toThrow(bad)
    expect(() => wireOf(new Uint8Array(7)).double()).toThrow(bad)
    expect(() => wireOf(new Uint8Array([5, 1, 2])).lengthEnd()).toThrow(bad)
    expect(() => wireOf(new Uint8Array([1, 2, 3])).skip(1)).toThrow(bad)
    expect(() => wireOf(new Uint8Array([1, 2, 3])).skip(5)).toThrow(bad)
  })
})
