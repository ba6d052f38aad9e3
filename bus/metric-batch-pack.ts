import { Packr, Unpackr } from 'msgpackr'
import { KnownBytes, checkMetricBatch, freezeDeep, isPlainObject, type MetricBatch } from '../core/index.js'

/**
 * A pack of MetricBatch values (remote_write's points, see MetricBatch) for Kafka: each distinct
 * series once, as MessagePack, and every batch's columns as raw numbers. A delta pack wrote every
 * batch's series whole, envelope and labels, and every consumer group decoded them again: about a
 * quarter of a process's time on the Kafka remote_write path. Here a producer encodes a series
 * (frozen, so it cannot have changed) once, and a consumer finds a series it has seen by its bytes
 * (see KnownBytes) and shares the one frozen object, as the remote_write decoder does.
 *
 * Layout, little-endian: u8 version (1); u32 series count, then per series u32 length and its
 * MessagePack map; u32 batch count, then per batch u32 series count and that many u32 indexes
 * into the pack's series, u32 point count, u8 flags, the points' series indexes (u32 each) unless
 * flag 1 says they are 0, 1, 2... (each series once, in order: what a request of one point per
 * series gives), their times (f64 each) or with flag 2 one time for all (one scrape), and their
 * values (f64 each).
 */
const VERSION = 1
const seriesPacker = new Packr({ useRecords: false })
const seriesUnpacker = new Unpackr({ useRecords: false, mapsAsObjects: true })
/** A frozen series' encoding, made once per producer. */
const encodedSeries = new WeakMap<object, Buffer>()
/** Series seen per generation by this process's consumers (see KnownBytes), and the longest kept. */
const KNOWN_SERIES_PER_GENERATION = 50_000
const MAX_SERIES_BYTES = 4096
const knownSeries = new KnownBytes<object>(KNOWN_SERIES_PER_GENERATION, MAX_SERIES_BYTES)
const BATCH_FIELDS = ['series', 'seriesIndex', 'ts', 'value']
/** Batch flags: its points name its series in order, once each; its points share one time. */
const SERIES_IN_ORDER = 1
const ONE_TIME = 2

function flagsOf({ series, seriesIndex, ts }: MetricBatch): number {
  let inOrder = seriesIndex.length === series.length
  for (let i = 0; inOrder && i < seriesIndex.length; i++) inOrder = seriesIndex[i] === i
  let oneTime = ts.length > 0
  for (let i = 1; oneTime && i < ts.length; i++) oneTime = ts[i] === ts[0]
  return (inOrder ? SERIES_IN_ORDER : 0) | (oneTime ? ONE_TIME : 0)
}

/** Whether `value` is a MetricBatch this encoding carries exactly; anything else goes as a delta pack. */
function isPackableBatch(value: unknown): value is MetricBatch {
  // Its fields first, and nothing else: a pack of other records (log lines) fails here, at once.
  if (!isPlainObject(value)) return false
  const fields = Object.keys(value)
  if (fields.length !== BATCH_FIELDS.length || !BATCH_FIELDS.every((field, i) => fields[i] === field))
    return false
  try {
    checkMetricBatch(value as unknown as MetricBatch)
  } catch {
    return false
  }
  // checkMetricBatch leaves series to their readers; this encoding writes them as maps.
  return (value.series as unknown[]).every(isPlainObject)
}

function bytesOfSeries(series: object): Buffer {
  const cached = encodedSeries.get(series)
  if (cached !== undefined) return cached
  // A copy: the packer's buffer is its own to reuse.
  const bytes = Buffer.from(seriesPacker.pack(series))
  if (Object.isFrozen(series)) encodedSeries.set(series, bytes)
  return bytes
}

/** The pack of `batches`, or undefined when one of them is not a MetricBatch it carries exactly. */
export function encodeMetricBatchPack(batches: readonly unknown[]): Buffer | undefined {
  if (batches.length === 0 || !batches.every(isPackableBatch)) return undefined
  const tableIndex = new Map<object, number>()
  const table: Buffer[] = []
  const flags = new Array<number>(batches.length)
  let size = 1 + 4 + 4
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b] as MetricBatch
    for (const series of batch.series) {
      if (tableIndex.has(series)) continue
      const bytes = bytesOfSeries(series)
      tableIndex.set(series, table.length)
      table.push(bytes)
      size += 4 + bytes.length
    }
    const batchFlags = (flags[b] = flagsOf(batch))
    const points = batch.ts.length
    size += 4 + 4 * batch.series.length + 4 + 1 + 8 * points
    size += batchFlags & SERIES_IN_ORDER ? 0 : 4 * points
    size += batchFlags & ONE_TIME ? 8 : 8 * points
  }
  const out = Buffer.allocUnsafe(size)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  let at = 0
  view.setUint8(at, VERSION)
  at += 1
  view.setUint32(at, table.length, true)
  at += 4
  for (const bytes of table) {
    view.setUint32(at, bytes.length, true)
    out.set(bytes, at + 4)
    at += 4 + bytes.length
  }
  view.setUint32(at, batches.length, true)
  at += 4
  for (let b = 0; b < batches.length; b++) {
    const { series, seriesIndex, ts, value } = batches[b] as MetricBatch
    const batchFlags = flags[b] as number
    view.setUint32(at, series.length, true)
    at += 4
    for (const one of series) {
      view.setUint32(at, tableIndex.get(one) as number, true)
      at += 4
    }
    const points = ts.length
    view.setUint32(at, points, true)
    view.setUint8(at + 4, batchFlags)
    at += 5
    if (!(batchFlags & SERIES_IN_ORDER))
      for (let i = 0; i < points; i++, at += 4) view.setUint32(at, seriesIndex[i] as number, true)
    if (batchFlags & ONE_TIME) {
      view.setFloat64(at, ts[0] as number, true)
      at += 8
    } else for (let i = 0; i < points; i++, at += 8) view.setFloat64(at, ts[i] as number, true)
    for (let i = 0; i < points; i++, at += 8) view.setFloat64(at, value[i] as number, true)
  }
  return out
}

function malformed(why: string): Error {
  return new Error(`malformed metric batch pack: ${why}`)
}

/** The batches of a pack; throws on a value that is not one. */
export function decodeMetricBatchPack(value: Buffer): MetricBatch[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  let at = 0
  /** Reads a count, checked against the bytes left for `each` bytes per item. */
  const count = (each: number): number => {
    if (at + 4 > value.length) throw malformed('truncated')
    const n = view.getUint32(at, true)
    at += 4
    if (n * each > value.length - at) throw malformed('a count runs past the end')
    return n
  }
  if (value.length < 1 || view.getUint8(0) !== VERSION) throw malformed('unknown version')
  at = 1
  const table = new Array<MetricBatch['series'][number]>(count(4))
  for (let s = 0; s < table.length; s++) {
    const length = count(1)
    const end = at + length
    const hash = knownSeries.hashOf(view, at, end)
    let series = knownSeries.find(hash, value, at, end)
    if (series === undefined) {
      const decoded = seriesUnpacker.unpack(value.subarray(at, end)) as unknown
      // A map with a "__proto__" key would have set a prototype, which isPlainObject refuses.
      if (!isPlainObject(decoded)) throw malformed('a series is not a map')
      // Shared by every batch that names it, in every consumer of this process: frozen.
      if (!freezeDeep(decoded)) throw malformed('a series nests too deep')
      series = decoded
      knownSeries.remember(hash, value, at, end, series)
    }
    table[s] = series as MetricBatch['series'][number]
    at = end
  }
  const batches = new Array<MetricBatch>(count(8))
  for (let b = 0; b < batches.length; b++) {
    const series = new Array<MetricBatch['series'][number]>(count(4))
    for (let s = 0; s < series.length; s++, at += 4) {
      const index = view.getUint32(at, true)
      if (index >= table.length) throw malformed('a batch names a series the pack does not have')
      series[s] = table[index] as MetricBatch['series'][number]
    }
    const points = count(8)
    if (at + 1 > value.length) throw malformed('truncated')
    const batchFlags = view.getUint8(at)
    at += 1
    if (batchFlags > (SERIES_IN_ORDER | ONE_TIME)) throw malformed('unknown batch flags')
    const inOrder = (batchFlags & SERIES_IN_ORDER) !== 0
    const oneTime = (batchFlags & ONE_TIME) !== 0
    if (inOrder && points !== series.length) throw malformed('series in order, but not one point each')
    const columnBytes = (inOrder ? 0 : 4 * points) + (oneTime ? 8 : 8 * points) + 8 * points
    if (columnBytes > value.length - at) throw malformed('points run past the end')
    const seriesIndex = new Array<number>(points)
    const ts = new Array<number>(points)
    const values = new Array<number>(points)
    if (inOrder) for (let i = 0; i < points; i++) seriesIndex[i] = i
    else for (let i = 0; i < points; i++, at += 4) seriesIndex[i] = view.getUint32(at, true)
    if (oneTime) {
      const time = view.getFloat64(at, true)
      at += 8
      for (let i = 0; i < points; i++) ts[i] = time
    } else for (let i = 0; i < points; i++, at += 8) ts[i] = view.getFloat64(at, true)
    for (let i = 0; i < points; i++, at += 8) values[i] = view.getFloat64(at, true)
    batches[b] = { series, seriesIndex, ts, value: values }
  }
  if (at !== value.length) throw malformed('bytes after the last batch')
  return batches
}
