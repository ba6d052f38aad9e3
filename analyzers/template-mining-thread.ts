import { Worker } from 'node:worker_threads'
import { counter, errorMessage, type Component, type Logger, type Registry } from '../core/index.js'
import { LogTemplateMiner } from './log-template-miner.js'

/** How long `stop` lets the thread answer what it was asked before it is terminated. */
const STOP_WAIT_MS = 10_000

export interface MiningRequest {
  id: number
  messages: readonly string[]
}
export interface MiningReply {
  id: number
  ids: string[]
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
}): TemplateMining {
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
  let worker: Worker | undefined
  let inline: LogTemplateMiner | undefined
  let nextId = 0
  let stopping = false

  function mineInline(messages: readonly string[]): string[] {
    inline ??= new LogTemplateMiner()
    fallbacks.inc({}, messages.length)
    return messages.map((message) => (inline as LogTemplateMiner).templateIdOf(message))
  }

  /** The thread is gone: what it still owed is mined here, as is everything after. */
  function lose(reason: string): void {
    if (!worker) return
    worker = undefined
    if (!stopping) {
      failures.inc()
      logger.error({ reason }, 'template mining thread stopped; mining on the main thread')
    }
    for (const request of pending.values()) request.resolve(mineInline(request.messages))
    pending.clear()
  }

  return {
    name: 'template-mining',
    async start() {
      if (worker) return
      stopping = false
      const entry = options.workerEntry ?? new URL('./template-mining-worker.ts', import.meta.url)
      try {
        // The worker is TypeScript like the rest: it registers tsx's loader, as bin/argus.js does,
        // before it loads its entry (a worker thread does not inherit the main thread's loader).
        const tsxApi = import.meta.resolve('tsx/esm/api')
        const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
        const started = new Worker(boot, { eval: true, name: 'argus-template-mining' })
        await new Promise<void>((resolve, reject) => {
          started.once('online', resolve)
          started.once('error', reject)
        })
        started.on('message', (reply: MiningReply) => {
          const request = pending.get(reply.id)
          if (!request) return
          pending.delete(reply.id)
          request.resolve(reply.ids)
        })
        started.on('error', (error) => lose(errorMessage(error)))
        started.on('exit', (code) => lose(`exited with code ${code}`))
        worker = started
      } catch (error) {
        failures.inc()
        logger.warn(
          { error: errorMessage(error) },
          'template mining thread did not start; mining on the main thread',
        )
      }
    },
    async stop() {
      const running = worker
      if (!running) return
      stopping = true
      // Callers still waiting get their ids: the thread answers what it has before it goes (a thread
      // that does not within the time owes the rest, which is then mined here).
      const deadline = Date.now() + STOP_WAIT_MS
      while (pending.size > 0 && worker && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5))
      await running.terminate()
      lose('stopped')
    },
    templateIds(messages) {
      if (messages.length === 0) return Promise.resolve([])
      const running = worker
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
