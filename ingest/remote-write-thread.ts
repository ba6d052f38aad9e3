import type { OutgoingMessage } from '../bus/index.js'
import {
  ArgusError,
  FallbackThread,
  asError,
  counter,
  freezeDeep,
  type Component,
  type ErrorCode,
  type Logger,
  type MetricBatch,
  type MetricSeries,
  type Registry,
} from '../core/index.js'
import { RemoteWriteDecoder, type DecodedRequest } from './remote-write.js'

/** What the thread is started with. */
export interface DecodeThreadData {
  cluster: string
  /** Series numbered before the thread starts again from 0: bounds the list both threads keep. */
  maxNumberedSeries: number
}

export interface DecodeRequest {
  id: number
  /** A copy of the request body: the caller's stays here, to be decoded here should the thread die. */
  body: Uint8Array
  maxUncompressedBytes: number
}

/**
 * A request's MetricBatches as they cross from the thread: the columns of all batches end to end in
 * a few transferred arrays (a transfer each costs more than copying a small batch's numbers), and
 * each series by the number the thread gave it, so a series' envelope and labels cross once, not
 * once per request. Batch b is `keys[b]`, its series `series[seriesEnds[b-1]..seriesEnds[b])` and
 * its points `[pointEnds[b-1]..pointEnds[b])`, whose `seriesIndex` is into the batch's series.
 */
export interface PackedRequest {
  keys: string[]
  seriesEnds: Uint32Array
  pointEnds: Uint32Array
  series: Uint32Array
  seriesIndex: Uint32Array
  ts: Float64Array
  value: Float64Array
  samples: number
  skipped: number
  /** Series numbered in this reply, in number order, after those of earlier replies. */
  added: MetricSeries[]
  /** The thread forgot its numbers before this reply: numbering starts again from 0. */
  renumber: boolean
}

/** An error as it crosses from the thread (a class does not survive the copy). */
export interface ThreadError {
  code: ErrorCode
  message: string
  retriable: boolean
  details?: Record<string, unknown> | undefined
}

export type DecodeReply =
  | { id: number; decoded: PackedRequest; error?: undefined }
  | { id: number; error: ThreadError; decoded?: undefined }

/** Decodes remote_write bodies (see RemoteWriteDecoder), in the order asked. */
export interface RemoteWriteDecoding extends Component {
  decode(body: Buffer, maxUncompressedBytes: number): Promise<DecodedRequest>
}

interface Pending {
  body: Buffer
  maxUncompressedBytes: number
  resolve: (decoded: DecodedRequest) => void
  reject: (error: Error) => void
}

/**
 * remote_write decoding on a thread of its own. Inflating and walking the protobuf was a quarter of
 * the main thread's time per sample, and the main thread is what bounds remote_write: on its own
 * thread it runs beside the analyzer and the writer. Requests are answered in the order they were
 * sent, so one sender's samples keep their order.
 *
 * Not started (or once the thread has died), bodies are decoded on the calling thread by a decoder
 * of its own: nothing waits on a thread that is not there. Bodies waiting for the thread are
 * bounded in bytes; past that a request is refused as overloaded (503, which Prometheus retries).
 */
export function createRemoteWriteThread(options: {
  cluster: string
  logger: Logger
  metrics: Registry
  /** The worker's module; tests give one that fails. */
  workerEntry?: URL
  /** See DecodeThreadData; 262,144 by default. */
  maxNumberedSeries?: number
  /** Compressed bytes waiting for the thread at most (64 MiB by default); one body always fits. */
  maxPendingBytes?: number
}): RemoteWriteDecoding {
  const threadData: DecodeThreadData = {
    cluster: options.cluster,
    maxNumberedSeries: options.maxNumberedSeries ?? 262_144,
  }
  const maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024
  const logger = options.logger.child({ component: 'remote-write-decoding' })
  const fallbacks = counter(
    options.metrics,
    'argus_remote_write_inline_total',
    'remote_write requests decoded on the main thread because the decoding thread was not running',
  )
  const failures = counter(
    options.metrics,
    'argus_remote_write_thread_failures_total',
    'Times the remote_write decoding thread failed to start or died (decoding then goes on inline)',
  )
  const overloaded = counter(
    options.metrics,
    'argus_remote_write_overloaded_total',
    'remote_write requests refused (503) because too many bytes waited for the decoding thread',
  )
  const pending = new Map<number, Pending>()
  let pendingBytes = 0
  /** Series by the number the thread gives them (see PackedRequest). */
  const numbered: MetricSeries[] = []
  let inline: RemoteWriteDecoder | undefined
  let nextId = 0

  function decodeInline(body: Buffer, maxUncompressedBytes: number): DecodedRequest {
    inline ??= new RemoteWriteDecoder(options.cluster)
    fallbacks.inc()
    return inline.decode(body, maxUncompressedBytes)
  }

  function settleInline(request: Pending): void {
    try {
      request.resolve(decodeInline(request.body, request.maxUncompressedBytes))
    } catch (error) {
      request.reject(asError(error))
    }
  }

  function unpack(packed: PackedRequest): DecodedRequest {
    const batches = new Array<OutgoingMessage<MetricBatch>>(packed.keys.length)
    let seriesStart = 0
    let pointStart = 0
    for (let b = 0; b < batches.length; b++) {
      const seriesEnd = packed.seriesEnds[b] as number
      const pointEnd = packed.pointEnds[b] as number
      const series = new Array<MetricSeries>(seriesEnd - seriesStart)
      for (let s = 0; s < series.length; s++)
        series[s] = numbered[packed.series[seriesStart + s] as number] as MetricSeries
      const batch: MetricBatch = {
        series,
        seriesIndex: plainArray(packed.seriesIndex, pointStart, pointEnd),
        ts: plainArray(packed.ts, pointStart, pointEnd),
        value: plainArray(packed.value, pointStart, pointEnd),
      }
      batches[b] = { key: packed.keys[b] as string, value: batch, records: pointEnd - pointStart }
      seriesStart = seriesEnd
      pointStart = pointEnd
    }
    return { batches, samples: packed.samples, skipped: packed.skipped }
  }

  function answer(reply: DecodeReply): void {
    // The numbering follows every reply, answered or not, to stay the thread's.
    if (reply.decoded) {
      if (reply.decoded.renumber) numbered.length = 0
      // Shared by every batch that names it: frozen, as the decoder's own are.
      for (const series of reply.decoded.added) {
        freezeDeep(series)
        numbered.push(series)
      }
    }
    const request = pending.get(reply.id)
    if (!request) return
    pending.delete(reply.id)
    pendingBytes -= request.body.length
    if (reply.error) {
      const { code, message, retriable, details } = reply.error
      request.reject(new ArgusError(code, message, { retriable, details }))
    } else request.resolve(unpack(reply.decoded))
  }

  const thread = new FallbackThread<DecodeReply>({
    work: 'remote_write decoding',
    entry: options.workerEntry ?? new URL('./remote-write-worker.ts', import.meta.url),
    threadName: 'argus-remote-write',
    workerData: threadData,
    logger,
    failures,
    pending: () => pending.size,
    // A new thread numbers from 0.
    onStarted: () => (numbered.length = 0),
    onReply: answer,
    // What the thread still owed is decoded here, as is everything after.
    onLost() {
      const owed = [...pending.values()]
      pending.clear()
      pendingBytes = 0
      for (const request of owed) settleInline(request)
    },
  })

  return {
    name: 'remote-write-decoding',
    start: () => thread.start(),
    stop: () => thread.stop(),
    decode(body, maxUncompressedBytes) {
      const running = thread.worker
      if (!running)
        return new Promise((resolve, reject) => settleInline({ body, maxUncompressedBytes, resolve, reject }))
      if (pending.size > 0 && pendingBytes + body.length > maxPendingBytes) {
        overloaded.inc()
        return Promise.reject(
          new ArgusError('ARGUS_ERR_OVERLOADED', 'remote_write decoding is behind; retry later', {
            retriable: true,
            details: { pendingBytes, maxPendingBytes },
          }),
        )
      }
      const id = nextId++
      const request: DecodeRequest = { id, body, maxUncompressedBytes }
      return new Promise((resolve, reject) => {
        pending.set(id, { body, maxUncompressedBytes, resolve, reject })
        pendingBytes += body.length
        // The body is copied, not transferred: it stays here in case the thread dies with it.
        running.postMessage(request)
      })
    },
  }
}

/** Part of a typed array as a plain array, as batches carry numbers (a loop: Array.from is 8x slower). */
function plainArray(typed: Uint32Array | Float64Array, start: number, end: number): number[] {
  const plain = new Array<number>(end - start)
  for (let i = 0; i < plain.length; i++) plain[i] = typed[start + i] as number
  return plain
}
