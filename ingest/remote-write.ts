import protobuf from 'protobufjs'
import { uncompressSync } from 'snappy'
import { ArgusError } from '../core/index.js'
import type { PrometheusSample } from './prometheus-text.js'

/**
 * Prometheus remote_write 1.0 (prompb `WriteRequest`), the messages Argus reads. Native histograms
 * and exemplars are skipped (counted by the caller from `skipped`).
 */
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message Histogram { int64 timestamp = 15; }
message MetricMetadata {
  enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
  MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5;
}
`
export const REMOTE_WRITE_PROTO = protobuf.parse(PROTO, { keepCase: true }).root
const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')

interface DecodedRequest {
  timeseries?: Array<{
    labels?: Array<{ name?: string; value?: string }>
    samples?: Array<{ value?: number; timestamp?: number | { toNumber(): number } }>
    histograms?: unknown[]
  }>
  metadata?: Array<{ type?: number; metric_family_name?: string }>
}

const TYPES: Record<number, PrometheusSample['type']> = {
  1: 'counter',
  2: 'gauge',
  3: 'histogram',
  5: 'summary',
}

/** Reads the uncompressed length snappy puts first (a varint), to refuse a bomb before inflating. */
function snappyLength(body: Buffer): number {
  let length = 0
  for (let i = 0, shift = 0; i < Math.min(body.length, 5); i++, shift += 7) {
    const byte = body[i] as number
    length += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return length
  }
  throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'body is not snappy-compressed (bad length header)')
}

const bad = (message: string): ArgusError => new ArgusError('ARGUS_ERR_BAD_INPUT', message)

/**
 * Decodes a remote_write request body (snappy block format, then protobuf) into samples with
 * their metric name, labels, value, time and, when the request carries metadata, type.
 */
export function decodeRemoteWrite(
  body: Buffer,
  maxUncompressedBytes: number,
): { samples: PrometheusSample[]; skipped: number } {
  const length = snappyLength(body)
  if (length > maxUncompressedBytes)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `uncompressed body of ${length} bytes is over the limit`, {
      details: { status: 413 },
    })
  let raw: Buffer
  try {
    raw = uncompressSync(body) as Buffer
  } catch (error) {
    throw bad(`body is not valid snappy: ${(error as Error).message}`)
  }
  let request: DecodedRequest
  try {
    // The decoded message is read as it is: converting it to plain objects (toObject) cost a
    // quarter of the decode, for samples that are copied once more below anyway.
    request = WriteRequest.decode(raw) as DecodedRequest
  } catch (error) {
    throw bad(`body is not a remote_write WriteRequest: ${(error as Error).message}`)
  }
  const types = new Map<string, PrometheusSample['type']>()
  for (const m of request.metadata ?? [])
    if (m.metric_family_name) types.set(m.metric_family_name, TYPES[m.type ?? 0] ?? 'untyped')
  const samples: PrometheusSample[] = []
  let skipped = 0
  for (const series of request.timeseries ?? []) {
    const labels: Record<string, string> = {}
    let name: string | undefined
    for (const label of series.labels ?? []) {
      if (!label.name) throw bad('a label has no name')
      if (label.name === '__name__') name = label.value
      else labels[label.name] = label.value ?? ''
    }
    skipped += series.histograms?.length ?? 0
    if (!name) {
      if ((series.samples?.length ?? 0) > 0) throw bad('a series has samples but no __name__ label')
      continue
    }
    const family = types.get(name) ?? types.get(name.replace(/_(bucket|sum|count|total)$/, '')) ?? 'untyped'
    for (const sample of series.samples ?? []) {
      const timestamp = sample.timestamp ?? 0
      const timestampMs = typeof timestamp === 'number' ? timestamp : timestamp.toNumber()
      if (!Number.isSafeInteger(timestampMs) || timestampMs <= 0)
        throw bad(`sample of ${name} has no valid timestamp`)
      samples.push({ name, labels, value: sample.value ?? 0, timestampMs, type: family })
    }
  }
  return { samples, skipped }
}
