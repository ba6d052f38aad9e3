import protobuf from 'protobufjs'
import { uncompressSync } from 'snappy'
import type { OutgoingMessage } from '../bus/index.js'
import {
  ArgusError,
  KnownBytes,
  partitionKey,
  type MetricBatch,
  type MetricSample,
  type MetricSeries,
} from '../core/index.js'
import { ProtobufWire } from './protobuf-wire.js'
import { metricSeries, sampleType, seriesEnvelope, type SeriesEnvelope } from './metric-samples.js'
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
const TimeSeries = REMOTE_WRITE_PROTO.lookupType('prometheus.TimeSeries')
const MetricMetadata = REMOTE_WRITE_PROTO.lookupType('prometheus.MetricMetadata')

// Field tags (field number << 3 | wire type) of the messages walked here.
const WRITE_REQUEST_TIMESERIES = (1 << 3) | 2
const WRITE_REQUEST_METADATA = (3 << 3) | 2
const SERIES_LABEL = (1 << 3) | 2
const SERIES_SAMPLE = (2 << 3) | 2
const SERIES_HISTOGRAM = (4 << 3) | 2
const SAMPLE_VALUE = (1 << 3) | 1
const SAMPLE_TIMESTAMP = (2 << 3) | 0

/** Series remembered per generation (see KnownBytes): about 1 KB each. */
const KNOWN_SERIES_PER_GENERATION = 50_000
/**
 * Points per published batch at most: a request's points of one partition key beyond this start
 * another batch, so no one message is more than a fraction of a bus partition's capacity.
 */
export const MAX_BATCH_POINTS = 10_000

const TYPES: Record<number, PrometheusSample['type']> = {
  1: 'counter',
  2: 'gauge',
  3: 'histogram',
  5: 'summary',
}

/** A series decoded once and shared by all its samples; `envelope` undefined drops them. */
interface DecodedSeries {
  name: string
  labels: Record<string, string>
  envelope: SeriesEnvelope | undefined
  /** The bus key of its samples (cluster/namespace/workload). */
  key: string
  /** The series as batches carry it, as of type `seriesType` (a request's metadata may retype it). */
  series?: MetricSeries
  seriesType?: MetricSample['type']
  /** The batch being filled that holds the series (by its number), and where in its series. */
  batchNumber?: number
  slot?: number
}

/** A batch being filled, numbered so that a series can note it is in it without holding on to it. */
interface FillingBatch {
  batch: MetricBatch
  number: number
}

/** A request's samples as column batches, one or more per partition key. */
export interface DecodedRequest {
  batches: Array<OutgoingMessage<MetricBatch>>
  /** Samples in the batches. */
  samples: number
  /** Native histograms skipped. */
  skipped: number
}

const bad = (message: string): ArgusError => new ArgusError('ARGUS_ERR_BAD_INPUT', message)

/**
 * Decodes remote_write request bodies (snappy block format, then protobuf) into column batches of
 * metric points (see MetricBatch), a batch per partition key.
 *
 * The wire is walked by hand rather than decoded into message objects: a known series is found by
 * the raw bytes of its labels (see KnownBytes), so only a series seen for the first time has its
 * labels decoded (by protobufjs) and mapped to an envelope. Per sample that leaves two numbers to
 * read, which matters at hundreds of thousands of samples a second.
 */
export class RemoteWriteDecoder {
  private readonly known = new KnownBytes<DecodedSeries>(KNOWN_SERIES_PER_GENERATION)
  /** One series' samples, read before the series is resolved (fields may come in any order). */
  private values: number[] = []
  private times: number[] = []
  private readonly wire = new ProtobufWire()
  /** The batch being filled per partition key, for the request being decoded. */
  private readonly filling = new Map<string, FillingBatch>()
  private batchesStarted = 0
  private batches: Array<OutgoingMessage<MetricBatch>> = []
  private samples = 0

  constructor(private readonly cluster: string) {}

  decode(body: Buffer, maxUncompressedBytes: number): DecodedRequest {
    const raw = inflate(body, maxUncompressedBytes)
    let skipped = 0
    const wire = this.wire
    this.batches = []
    this.samples = 0
    try {
      wire.reset(raw)
      const types = familyTypes(wire)
      wire.reset(raw)
      while (wire.pos < wire.len) {
        const tag = wire.varint32()
        if (tag === WRITE_REQUEST_TIMESERIES) skipped += this.readSeries(wire.lengthEnd(), types)
        else wire.skip(tag & 7)
      }
      for (const [key, filling] of this.filling) this.publishLater(key, filling.batch)
      return { batches: this.batches, samples: this.samples, skipped }
    } catch (error) {
      if (error instanceof ArgusError) throw error
      throw bad(`body is not a remote_write WriteRequest: ${(error as Error).message}`)
    } finally {
      wire.release()
      this.filling.clear()
      this.batches = []
    }
  }

  /** Ends a batch: it goes out with the request's others. */
  private publishLater(key: string, batch: MetricBatch): void {
    this.batches.push({ key, value: batch, records: batch.ts.length })
    this.samples += batch.ts.length
  }

  /** Reads one TimeSeries up to `end`, appends its samples; returns how many histograms it skipped. */
  private readSeries(end: number, types: Map<string, PrometheusSample['type']>): number {
    const wire = this.wire
    const start = wire.pos
    let labelsStart = -1
    let labelsEnd = -1
    let scattered = false
    let histograms = 0
    let count = 0
    while (wire.pos < end) {
      const at = wire.pos
      const tag = wire.varint32()
      if (tag === SERIES_LABEL) {
        if (labelsStart === -1) labelsStart = at
        else if (labelsEnd !== at) scattered = true
        wire.pos = wire.lengthEnd()
        labelsEnd = wire.pos
      } else if (tag === SERIES_SAMPLE) {
        const sampleEnd = wire.lengthEnd()
        let value = 0
        let timestampMs = 0
        while (wire.pos < sampleEnd) {
          const field = wire.varint32()
          if (field === SAMPLE_VALUE) value = wire.double()
          else if (field === SAMPLE_TIMESTAMP) timestampMs = wire.int64()
          else wire.skip(field & 7)
        }
        if (wire.pos !== sampleEnd) throw bad('a sample runs past its length')
        this.values[count] = value
        this.times[count] = timestampMs
        count++
      } else {
        if (tag === SERIES_HISTOGRAM) histograms++
        wire.skip(tag & 7)
      }
    }
    if (wire.pos !== end) throw bad('a series runs past its length')
    const raw = wire.buf
    const series = scattered
      ? this.decodeSeries(raw.subarray(start, end))
      : labelsStart === -1
        ? undefined
        : this.knownSeries(raw, labelsStart, labelsEnd)
    if (series === undefined) {
      if (count > 0) throw bad('a series has samples but no __name__ label')
      return histograms
    }
    // Its times are checked even when the series is dropped.
    for (let i = 0; i < count; i++) {
      const timestampMs = this.times[i] as number
      if (!Number.isSafeInteger(timestampMs) || timestampMs <= 0)
        throw bad(`sample of ${series.name} has no valid timestamp`)
    }
    if (series.envelope === undefined) return histograms
    let batch: MetricBatch | undefined
    let slot = 0
    for (let i = 0; i < count; i++) {
      const value = this.values[i] as number
      if (!Number.isFinite(value)) continue
      if (batch === undefined || batch.ts.length >= MAX_BATCH_POINTS) {
        const filling = this.batchFor(series)
        batch = filling.batch
        slot = this.slotIn(filling, series, types)
      }
      batch.seriesIndex.push(slot)
      batch.ts.push(this.times[i] as number)
      batch.value.push(value)
    }
    return histograms
  }

  /** The batch the series' points go to now: its key's, or a new one when that one is full. */
  private batchFor(series: DecodedSeries): FillingBatch {
    let filling = this.filling.get(series.key)
    if (filling !== undefined && filling.batch.ts.length < MAX_BATCH_POINTS) return filling
    if (filling !== undefined) this.publishLater(series.key, filling.batch)
    filling = { batch: { series: [], seriesIndex: [], ts: [], value: [] }, number: ++this.batchesStarted }
    this.filling.set(series.key, filling)
    return filling
  }

  /** Where the series is in the batch's series, added when it is not there yet. */
  private slotIn(
    filling: FillingBatch,
    series: DecodedSeries,
    types: Map<string, PrometheusSample['type']>,
  ): number {
    if (series.batchNumber === filling.number) return series.slot as number
    series.batchNumber = filling.number
    series.slot = filling.batch.series.push(this.seriesOf(series, types)) - 1
    return series.slot
  }

  /** The series as batches carry it, for this request's type of it: made once per series and type. */
  private seriesOf(series: DecodedSeries, types: Map<string, PrometheusSample['type']>): MetricSeries {
    const type = types.size === 0 ? 'unknown' : sampleType(familyOf(series.name, types))
    if (series.series !== undefined && series.seriesType === type) return series.series
    // Shared by every batch that names it until it is retyped: frozen, so no consumer changes it.
    series.series = Object.freeze(metricSeries(this.cluster, series, series.envelope as SeriesEnvelope, type))
    series.seriesType = type
    return series.series
  }

  private knownSeries(raw: Buffer, start: number, end: number): DecodedSeries | undefined {
    const hash = this.known.hashOf(this.wire.view, start, end)
    const known = this.known.find(hash, raw, start, end)
    if (known !== undefined) return known
    // The labels alone are a valid TimeSeries encoding (field 1 repeated).
    const series = this.decodeSeries(raw.subarray(start, end))
    if (series !== undefined) this.known.remember(hash, raw, start, end, series)
    return series
  }

  /** Decodes a series' labels with protobufjs; undefined when it has no metric name. */
  private decodeSeries(encoded: Buffer): DecodedSeries | undefined {
    const decoded = TimeSeries.decode(encoded) as { labels?: Array<{ name?: string; value?: string }> }
    const labels: Record<string, string> = {}
    let name: string | undefined
    for (const label of decoded.labels ?? []) {
      if (!label.name) throw bad('a label has no name')
      if (label.name === '__name__') name = label.value
      else labels[label.name] = label.value ?? ''
    }
    if (!name) return undefined
    const envelope = seriesEnvelope(labels)
    // Shared by every sample of the series: frozen, so a change to one sample's cannot leak.
    return {
      name,
      labels: Object.freeze(labels),
      envelope: envelope && Object.freeze(envelope),
      key: partitionKey({ cluster: this.cluster, ...envelope }),
    }
  }
}

/** Reads the uncompressed length snappy puts first (a varint), to refuse a bomb before inflating. */
function snappyLength(body: Buffer): number {
  let length = 0
  for (let i = 0, shift = 0; i < Math.min(body.length, 5); i++, shift += 7) {
    const byte = body[i] as number
    length += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return length
  }
  throw bad('body is not snappy-compressed (bad length header)')
}

function inflate(body: Buffer, maxUncompressedBytes: number): Buffer {
  const length = snappyLength(body)
  if (length > maxUncompressedBytes)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `uncompressed body of ${length} bytes is over the limit`, {
      details: { status: 413 },
    })
  try {
    return uncompressSync(body) as Buffer
  } catch (error) {
    throw bad(`body is not valid snappy: ${(error as Error).message}`)
  }
}

/**
 * The family types the request's metadata declares (it may come after the series it types), read
 * from `wire` at the request's start; leaves it at the end.
 */
function familyTypes(wire: ProtobufWire): Map<string, PrometheusSample['type']> {
  const types = new Map<string, PrometheusSample['type']>()
  const raw = wire.buf
  while (wire.pos < wire.len) {
    const tag = wire.varint32()
    if (tag !== WRITE_REQUEST_METADATA) {
      wire.skip(tag & 7)
      continue
    }
    const end = wire.lengthEnd()
    const metadata = MetricMetadata.decode(raw.subarray(wire.pos, end)) as {
      type?: number
      metric_family_name?: string
    }
    wire.pos = end
    if (metadata.metric_family_name)
      types.set(metadata.metric_family_name, TYPES[metadata.type ?? 0] ?? 'untyped')
  }
  return types
}

const familyOf = (name: string, types: Map<string, PrometheusSample['type']>): PrometheusSample['type'] =>
  types.get(name) ?? types.get(name.replace(/_(bucket|sum|count|total)$/, '')) ?? 'untyped'
