/**
 * The remote_write decoding thread (see remote-write-thread.ts): one decoder, asked in order, so it
 * knows every series the requests before named, as it would on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { errorMessage, isArgusError, type MetricSeries } from '../core/index.js'
import { RemoteWriteDecoder, type DecodedRequest } from './remote-write.js'
import type {
  DecodeReply,
  DecodeRequest,
  DecodeThreadData,
  PackedRequest,
  ThreadError,
} from './remote-write-thread.js'

const port = parentPort
if (!port) throw new Error('remote-write-worker runs as a worker thread')
const { cluster, maxNumberedSeries } = workerData as DecodeThreadData
const decoder = new RemoteWriteDecoder(cluster)
/**
 * The number each series object has in replies; the main thread holds the same list. Weak, so a
 * series the decoder has forgotten is not kept alive by its number.
 */
let numbers = new WeakMap<MetricSeries, number>()
let numbered = 0

port.on('message', ({ id, body, maxUncompressedBytes }: DecodeRequest) => {
  let decoded: DecodedRequest
  try {
    decoded = decoder.decode(Buffer.from(body.buffer, body.byteOffset, body.byteLength), maxUncompressedBytes)
  } catch (error) {
    const reply: DecodeReply = { id, error: threadError(error) }
    port.postMessage(reply)
    return
  }
  const { packed, transfer } = pack(decoded)
  const reply: DecodeReply = { id, decoded: packed }
  port.postMessage(reply, transfer)
})

/** A request's batches as they cross (see PackedRequest), and the arrays to transfer. */
function pack(decoded: DecodedRequest): { packed: PackedRequest; transfer: ArrayBuffer[] } {
  const renumber = numbered >= maxNumberedSeries
  if (renumber) {
    numbers = new WeakMap()
    numbered = 0
  }
  const added: MetricSeries[] = []
  const batches = decoded.batches
  let seriesCount = 0
  for (const { value: batch } of batches) seriesCount += batch.series.length
  const columns = {
    seriesEnds: new Uint32Array(batches.length),
    pointEnds: new Uint32Array(batches.length),
    series: new Uint32Array(seriesCount),
    seriesIndex: new Uint32Array(decoded.samples),
    ts: new Float64Array(decoded.samples),
    value: new Float64Array(decoded.samples),
  }
  const packed: PackedRequest = {
    keys: new Array<string>(batches.length),
    ...columns,
    samples: decoded.samples,
    skipped: decoded.skipped,
    added,
    renumber,
  }
  let seriesEnd = 0
  let pointEnd = 0
  for (let b = 0; b < batches.length; b++) {
    const { key, value: batch } = batches[b] as (typeof batches)[number]
    for (const one of batch.series) {
      let number = numbers.get(one)
      if (number === undefined) {
        number = numbered++
        numbers.set(one, number)
        added.push(one)
      }
      packed.series[seriesEnd++] = number
    }
    packed.seriesIndex.set(batch.seriesIndex, pointEnd)
    packed.ts.set(batch.ts, pointEnd)
    packed.value.set(batch.value, pointEnd)
    pointEnd += batch.ts.length
    packed.keys[b] = key
    packed.seriesEnds[b] = seriesEnd
    packed.pointEnds[b] = pointEnd
  }
  return { packed, transfer: Object.values(columns).map((column) => column.buffer) }
}

/** An error as it crosses to the main thread (a class does not survive the copy). */
function threadError(error: unknown): ThreadError {
  if (isArgusError(error))
    return { code: error.code, message: error.message, retriable: error.retriable, details: error.details }
  return { code: 'ARGUS_ERR_INTERNAL', message: errorMessage(error), retriable: false }
}
