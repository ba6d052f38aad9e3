import { gunzipSync } from 'node:zlib'
import { ExtensionCodec } from '@msgpack/msgpack'
import { addExtension, Unpackr } from 'msgpackr'
import { PackedEntriesDecoder } from './packed-entries.js'

/**
 * Fluentd's EventTime (msgpack ext type 0: uint32 seconds, uint32 nanoseconds, big-endian),
 * read as epoch milliseconds.
 */
export const FORWARD_CODEC = new ExtensionCodec()
FORWARD_CODEC.register({
  type: 0,
  encode: (value: unknown) => {
    if (!(value instanceof EventTimeValue)) return null
    const bytes = new Uint8Array(8)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, Math.floor(value.ms / 1000))
    view.setUint32(4, (value.ms % 1000) * 1_000_000)
    return bytes
  },
  decode: (data: Uint8Array) => eventTimeFrom(data),
})

/** A decoded EventTime; also lets tests and benchmarks send one. */
export class EventTimeValue {
  constructor(readonly ms: number) {}
}

function eventTimeFrom(data: Uint8Array): EventTimeValue {
  if (data.byteLength !== 8) throw new ForwardProtocolError('EventTime must be 8 bytes')
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return new EventTimeValue(view.getUint32(0) * 1000 + Math.floor(view.getUint32(4) / 1_000_000))
}

/**
 * PackedForward entries, thousands per chunk, are decoded with msgpackr: with its native string
 * extraction it takes 1.0 µs per entry where @msgpack/msgpack takes 2.6 (the Forward path's largest
 * cost after storage). @msgpack/msgpack still frames the connection's stream, with its limits.
 * Type 0 is fluentd's EventTime; msgpackr registers extensions process-wide and uses no type 0.
 * msgpackr has no length limits of its own: what the entries decode to is bounded by their blob,
 * which the stream decoder's maxBinLength and the inflate cap bound.
 */
addExtension({ type: 0, unpack: (data: Uint8Array) => eventTimeFrom(data) })
const entryUnpacker = new Unpackr({ mapsAsObjects: true, useRecords: false })
/** Shared by all connections: shippers on many nodes send the same pods' metadata over time. */
const packedEntries = new PackedEntriesDecoder(entryUnpacker)

export class ForwardProtocolError extends Error {
  override name = 'ForwardProtocolError'
}

/** Limits on what one message may decode to, so a hostile length prefix cannot exhaust memory. */
export const FORWARD_DECODE_LIMITS = {
  maxStrLength: 4 * 1024 * 1024,
  maxBinLength: 64 * 1024 * 1024,
  maxArrayLength: 1_000_000,
  maxMapLength: 10_000,
  maxExtLength: 1024,
  maxDepth: 64,
} as const

/** Decompressed PackedForward entries at most: a gzip bomb is refused, not inflated. */
const MAX_INFLATED_BYTES = 256 * 1024 * 1024

export interface ForwardEntry {
  /** Event time, epoch ms. */
  time: number
  record: unknown
}

export interface ForwardMessage {
  tag: string
  entries: ForwardEntry[]
  /** Present when the client wants an acknowledgement (`{ack: chunk}`) after the entries are handled. */
  chunk?: string
  mode: 'message' | 'forward' | 'packed' | 'compressed'
}

function eventTime(value: unknown): number {
  if (value instanceof EventTimeValue) return value.ms
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value * 1000)
  throw new ForwardProtocolError('event time must be an integer or an EventTime')
}

function entry(raw: unknown): ForwardEntry {
  if (!Array.isArray(raw) || raw.length < 2) throw new ForwardProtocolError('an entry must be [time, record]')
  return { time: eventTime(raw[0]), record: textified(raw[1]) }
}

function optionOf(raw: unknown): { chunk?: string; compressed?: string } {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array)
    throw new ForwardProtocolError('option must be a map')
  const option = raw as Record<string, unknown>
  const out: { chunk?: string; compressed?: string } = {}
  if (option.chunk !== undefined) {
    if (typeof option.chunk !== 'string') throw new ForwardProtocolError('option chunk must be a string')
    out.chunk = option.chunk
  }
  if (option.compressed !== undefined) {
    if (typeof option.compressed !== 'string')
      throw new ForwardProtocolError('option compressed must be a string')
    out.compressed = option.compressed
  }
  return out
}

const utf8 = new TextDecoder()

/**
 * Shippers may pack strings as msgpack `bin` (fluentd's older msgpack, some plugins): read them as
 * UTF-8. The decoded value is ours, so it is changed in place (no copy on the hot path).
 */
export function textified(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return utf8.decode(value)
  if (depth > 16 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = textified(value[i], depth + 1)
    return value
  }
  const map = value as Record<string, unknown>
  for (const key in map) {
    const item = map[key]
    if (item !== null && typeof item === 'object') map[key] = textified(item, depth + 1)
  }
  return map
}

/**
 * Reads one Forward protocol message (v1): Message `[tag, time, record, option?]`, Forward
 * `[tag, [[time, record], ...], option?]`, PackedForward `[tag, bin, option?]` (concatenated
 * msgpack entries) and CompressedPackedForward (the same, gzipped, `compressed: "gzip"`).
 * Throws ForwardProtocolError on anything else: the connection is then closed.
 */
export function readForwardMessage(raw: unknown): ForwardMessage {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 4)
    throw new ForwardProtocolError('a message must be an array [tag, ...] of 2 to 4 items')
  const [tag, second] = raw as unknown[]
  if (typeof tag !== 'string' || tag.length === 0)
    throw new ForwardProtocolError('tag must be a non-empty string')
  let message: ForwardMessage
  if (Array.isArray(second)) {
    if (raw.length > 3) throw new ForwardProtocolError('a Forward mode message has at most 3 items')
    message = { tag, entries: second.map(entry), mode: 'forward' }
    const { chunk } = optionOf(raw[2])
    if (chunk !== undefined) message.chunk = chunk
  } else if (second instanceof Uint8Array || typeof second === 'string') {
    if (raw.length > 3) throw new ForwardProtocolError('a PackedForward message has at most 3 items')
    const option = optionOf(raw[2])
    let bytes = typeof second === 'string' ? Buffer.from(second, 'latin1') : second
    let mode: ForwardMessage['mode'] = 'packed'
    if (option.compressed === 'gzip') {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES })
      } catch (error) {
        throw new ForwardProtocolError(`compressed entries do not inflate: ${(error as Error).message}`)
      }
      mode = 'compressed'
    } else if (option.compressed !== undefined && option.compressed !== 'text') {
      throw new ForwardProtocolError(`unknown compression ${option.compressed}`)
    }
    const entries: ForwardEntry[] = []
    try {
      const packed = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const { items, blocks, misses } = packedEntries.decode(packed)
      for (let i = 0; i < items.length; i++) {
        const decoded = entry(items[i])
        const block = blocks[i]
        if (block !== undefined) (decoded.record as Record<string, unknown>).kubernetes = block
        entries.push(decoded)
      }
      for (const miss of misses)
        packedEntries.remember(
          packed,
          miss,
          (entries[miss.index]?.record as Record<string, unknown> | undefined)?.kubernetes,
        )
    } catch (error) {
      if (error instanceof ForwardProtocolError) throw error
      throw new ForwardProtocolError(`packed entries are not msgpack: ${(error as Error).message}`)
    }
    message = { tag, entries, mode }
    if (option.chunk !== undefined) message.chunk = option.chunk
  } else {
    if (raw.length < 3)
      throw new ForwardProtocolError('a Message mode message is [tag, time, record, option?]')
    message = { tag, entries: [{ time: eventTime(second), record: textified(raw[2]) }], mode: 'message' }
    const { chunk } = optionOf(raw[3])
    if (chunk !== undefined) message.chunk = chunk
  }
  return message
}
