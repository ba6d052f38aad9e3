import type { KafkaMessage, Message } from 'kafkajs'
import { Packr, Unpackr } from 'msgpackr'
import type { DeliveredMessage, OutgoingMessage } from './bus.js'
import { decodeDeltaPack, encodeDeltaPack } from './delta-pack.js'
import { decodeMetricBatchPack, encodeMetricBatchPack } from './metric-batch-pack.js'

/** Header on a Kafka message that carries several records: their count. */
export const PACK_HEADER = 'argus-pack'
/**
 * Header on a pack whose values stand for more records than their count (see
 * OutgoingMessage.records): the records they hold, so consumers size batches by them.
 */
export const RECORDS_HEADER = 'argus-records'
/** Header naming a value's encoding when it is not JSON. */
export const ENCODING_HEADER = 'argus-encoding'
const MSGPACK = 'msgpack'
/** Packs of plain objects: each record as what differs from the one before it (see delta-pack). */
const MSGPACK_DELTA = 'msgpack-delta'
/** Packs of MetricBatch values: series once, columns as raw numbers (see metric-batch-pack). */
const METRIC_BATCHES = 'metric-batches'
/** Records per Kafka message at most, and bytes: far below the topics' max.message.bytes (8 MiB). */
const MAX_PACK_RECORDS = 1000
const MAX_PACK_BYTES = 1024 * 1024

/**
 * Packs of MetricBatch values are metric batch packs (see metric-batch-pack); packs of other plain
 * objects (every other topic's records) are delta packs (see delta-pack). Others are
 * MessagePack with msgpackr's record extension: each object shape is written once per message
 * (inline, so every message decodes on its own) and its objects as values only. Against JSON, a
 * log record encodes in 1.3 µs instead of 2.0, decodes in 0.6 instead of 1.75, and takes 224
 * bytes instead of 477, which the broker, the CRC and every consumer group pay again. Consumers
 * read both encodings; upgrade consumers before producers.
 */
const packer = new Packr({ useRecords: true })
const unpacker = new Unpackr({ useRecords: true, mapsAsObjects: true })

export interface PackedMessages {
  messages: Message[]
  bytes: number
}

/**
 * Packs the records of each key (one key, one partition, so per-key order holds) into Kafka
 * messages of up to a thousand records. Kafka's per-record costs (partitioner hash, record
 * encoding, CRC, offsets) are then paid per pack, not per log line: the difference between ~30k
 * and over 100k events/s on two cores. Records with headers (dead letters) travel alone, as JSON,
 * so an operator can read the dead-letter topic with any Kafka tool.
 */
export function packMessages<T>(records: ReadonlyArray<OutgoingMessage<T>>): PackedMessages {
  const out: Message[] = []
  let bytes = 0
  const byKey = new Map<string, T[]>()
  /** Records each value stands for, per key, when one of them stands for more than one. */
  const weightsByKey = new Map<string, number[]>()
  for (const record of records) {
    if (record.headers) {
      const value = JSON.stringify(record.value)
      bytes += value.length + record.key.length
      out.push({ key: record.key, value, headers: { ...record.headers } })
      continue
    }
    let values = byKey.get(record.key)
    if (values === undefined) byKey.set(record.key, (values = []))
    values.push(record.value)
    const weight = record.records ?? 1
    // Looked at only once some value weighs more than one (log records never do).
    if (weight !== 1 || weightsByKey.size > 0) {
      let weights = weightsByKey.get(record.key)
      // Kept from a key's first value of more than one record, the ones before it weighing one each.
      if (weights === undefined && weight !== 1)
        weightsByKey.set(record.key, (weights = new Array<number>(values.length - 1).fill(1)))
      weights?.push(weight)
    }
  }
  const emit = (key: string, values: T[], weights: number[] | undefined): void => {
    const batches = encodeMetricBatchPack(values)
    const delta = batches === undefined ? encodeDeltaPack(values) : undefined
    const value = batches ?? delta ?? packer.pack(values)
    // A pack over the byte cap is halved until it fits; one record over it still goes, alone.
    if (value.length > MAX_PACK_BYTES && values.length > 1) {
      const half = Math.ceil(values.length / 2)
      emit(key, values.slice(0, half), weights?.slice(0, half))
      emit(key, values.slice(half), weights?.slice(half))
      return
    }
    bytes += value.length + key.length
    const headers: Record<string, string> = {
      [PACK_HEADER]: String(values.length),
      [ENCODING_HEADER]: batches ? METRIC_BATCHES : delta ? MSGPACK_DELTA : MSGPACK,
    }
    if (weights !== undefined) headers[RECORDS_HEADER] = String(weights.reduce((sum, n) => sum + n, 0))
    out.push({ key, value, headers })
  }
  for (const [key, values] of byKey) {
    const weights = weightsByKey.get(key)
    for (let at = 0; at < values.length; at += MAX_PACK_RECORDS)
      emit(
        key,
        at === 0 && values.length <= MAX_PACK_RECORDS ? values : values.slice(at, at + MAX_PACK_RECORDS),
        weights?.slice(at, at + MAX_PACK_RECORDS),
      )
  }
  return { messages: out, bytes }
}

/** The records a message's value holds: a MessagePack or JSON array for a pack, one JSON value otherwise. */
function decodeValue(value: Buffer | null, encoding: string | undefined, packed: boolean): unknown[] {
  if (encoding === METRIC_BATCHES) {
    if (!value) throw new Error('a metric batch pack has no value')
    return decodeMetricBatchPack(value)
  }
  if (encoding === MSGPACK_DELTA) {
    if (!value) throw new Error('a delta pack has no value')
    return decodeDeltaPack(value)
  }
  if (encoding === MSGPACK) {
    if (!value) throw new Error('a MessagePack message has no value')
    const decoded = unpacker.unpack(value) as unknown
    if (!Array.isArray(decoded)) throw new Error('a packed message must hold an array')
    return decoded
  }
  if (encoding !== undefined) throw new Error(`unknown value encoding "${encoding}"`)
  const parsed = JSON.parse(value?.toString() ?? 'null') as unknown
  if (!packed) return [parsed]
  if (!Array.isArray(parsed)) throw new Error('a packed message must hold a JSON array')
  return parsed
}

/** The records a pack's values stand for, when its producer said (see RECORDS_HEADER). */
export function recordsIn(message: KafkaMessage): number | undefined {
  const header = message.headers?.[RECORDS_HEADER]
  if (header === undefined) return undefined
  const records = Number(String(header))
  return Number.isSafeInteger(records) && records > 0 ? records : undefined
}

/** A message's value as a dead letter can carry it: text for JSON, base64 for a binary encoding. */
export function rawValueOf(message: KafkaMessage): string | null {
  if (!message.value) return null
  const encoding = message.headers?.[ENCODING_HEADER]
  return encoding === undefined ? message.value.toString() : message.value.toString('base64')
}

/**
 * The records of one Kafka message: several for a pack, one otherwise. They share the message's
 * offset, so a consumer commits, redelivers and deduplicates them together. Reads JSON values of
 * older producers too. Throws on a value that does not decode (or a pack that is not an array),
 * for the caller to dead-letter.
 */
export function unpackMessage<T>(
  topic: string,
  partition: number,
  message: KafkaMessage,
): DeliveredMessage<T>[] {
  const headers: Record<string, string> = {}
  let packed = false
  let encoding: string | undefined
  for (const [key, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue
    const text = Array.isArray(value) ? value.map(String).join(',') : String(value)
    if (key === PACK_HEADER) packed = true
    else if (key === ENCODING_HEADER) encoding = text
    else if (key === RECORDS_HEADER) continue
    else headers[key] = text
  }
  const values = decodeValue(message.value, encoding, packed) as T[]
  const key = message.key?.toString() ?? ''
  const offset = Number(message.offset)
  const publishedAt = Number(message.timestamp)
  const hasHeaders = Object.keys(headers).length > 0
  return values.map((value) => {
    const delivered: DeliveredMessage<T> = { key, value, topic, partition, offset, publishedAt }
    if (hasHeaders) delivered.headers = headers
    return delivered
  })
}
