import { FallbackThread, counter, type Component, type Logger, type Registry } from '../core/index.js'
import { LogTemplateMiner } from './log-template-miner.js'

export interface MiningRequest {
  id: number
  messages: readonly string[]
}
/**
 * Template ids come back as numbers (a transferred array, not a string per line to copy twice),
 * with the ids first numbered in this reply; both threads keep the list of ids in number order.
 */
export interface MiningReply {
  id: number
  numbers: Uint32Array
  /** Ids numbered in this reply, in number order, after those of earlier replies. */
  added: string[]
  /** The thread forgot its numbers before this reply: numbering starts again from 0. */
  renumber: boolean
}

/** What the thread is started with. */
export interface MiningThreadData {
  /** Ids numbered before the thread starts again from 0: bounds the list both threads keep. */
  maxNumberedIds: number
}

/** Template ids for log messages, in order; one miner behind it, whatever the callers. */
export interface TemplateMining extends Component {
  templateIds(messages: readonly string[]): Promise<string[]>
}

/**
 * Log template mining on a thread of its own. Mining (masking and tokenising every line) was a
 * fifth of the ingest path's main-thread time, and the main thread is what bounds ingest; on its
 * own thread it runs beside decoding and storage. Requests are answered in the order they were
 * sent, so one receiver's batches keep their order and the miner sees lines in arrival order.
 *
 * Not started (or once the thread has died), lines are mined on the calling thread by a miner of
 * its own: nothing waits on a thread that is not there. Pending requests are bounded by what the
 * receivers have in flight, as each caller awaits its batch before acknowledging it.
 */
export function createTemplateMiningThread(options: {
  logger: Logger
  metrics: Registry
  /** The worker's module; tests give one that fails. */
  workerEntry?: URL
  /** See MiningThreadData; 65,536 by default. */
  maxNumberedIds?: number
}): TemplateMining {
  const threadData: MiningThreadData = { maxNumberedIds: options.maxNumberedIds ?? 65_536 }
  const logger = options.logger.child({ component: 'template-mining' })
  const fallbacks = counter(
    options.metrics,
    'argus_template_mining_inline_total',
    'Log lines mined on the main thread because the mining thread was not running',
  )
  const failures = counter(
    options.metrics,
    'argus_template_mining_thread_failures_total',
    'Times the template mining thread failed to start or died (mining then goes on inline)',
  )
  const pending = new Map<number, { messages: readonly string[]; resolve: (ids: string[]) => void }>()
  /** Template ids by the number the thread gives them (see MiningReply). */
  const numbered: string[] = []
  let inline: LogTemplateMiner | undefined
  let nextId = 0

  function mineInline(messages: readonly string[]): string[] {
    inline ??= new LogTemplateMiner()
    fallbacks.inc({}, messages.length)
    return messages.map((message) => (inline as LogTemplateMiner).templateIdOf(message))
  }

  const thread = new FallbackThread<MiningReply>({
    work: 'template mining',
    entry: options.workerEntry ?? new URL('./template-mining-worker.ts', import.meta.url),
    threadName: 'argus-template-mining',
    workerData: threadData,
    logger,
    failures,
    pending: () => pending.size,
    // A new thread numbers from 0.
    onStarted: () => (numbered.length = 0),
    onReply(reply) {
      // The numbering follows every reply, answered or not, to stay the thread's.
      if (reply.renumber) numbered.length = 0
      for (const added of reply.added) numbered.push(added)
      const request = pending.get(reply.id)
      if (!request) return
      pending.delete(reply.id)
      const ids = new Array<string>(reply.numbers.length)
      for (let i = 0; i < ids.length; i++) ids[i] = numbered[reply.numbers[i] as number] as string
      request.resolve(ids)
    },
    // What the thread still owed is mined here, as is everything after.
    onLost() {
      for (const request of pending.values()) request.resolve(mineInline(request.messages))
      pending.clear()
    },
  })

  return {
    name: 'template-mining',
    start: () => thread.start(),
    stop: () => thread.stop(),
    templateIds(messages) {
      if (messages.length === 0) return Promise.resolve([])
      const running = thread.worker
      if (!running) return Promise.resolve(mineInline(messages))
      const id = nextId++
      const request: MiningRequest = { id, messages }
      return new Promise((resolve) => {
        pending.set(id, { messages, resolve })
        running.postMessage(request)
      })
    },
  }
}
