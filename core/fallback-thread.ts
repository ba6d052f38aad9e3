import type { Worker } from 'node:worker_threads'
import { errorMessage } from './errors.js'
import type { Logger } from './logger.js'
import type { Counter } from './metrics.js'
import { startTypeScriptWorker } from './typescript-worker.js'

/** How long `stop` lets the thread answer what it was asked before it is terminated. */
const STOP_WAIT_MS = 10_000

export interface FallbackThreadOptions<Reply> {
  /** What the logs call the thread's work, e.g. "template mining". */
  work: string
  /** The worker's module (TypeScript, see startTypeScriptWorker) and what it is started with. */
  entry: URL
  threadName: string
  workerData: unknown
  logger: Logger
  /** Counts each failed start and each death. */
  failures: Counter
  /** Requests sent to the thread and not answered yet: `stop` waits for them. */
  pending(): number
  /** A new thread is about to take requests (before any reply of it). */
  onStarted(): void
  onReply(reply: Reply): void
  /** The thread is gone (died or stopped): what it still owed is done on the calling thread. */
  onLost(): void
}

/**
 * The lifecycle of a worker thread whose work falls back to the calling thread: when it fails to
 * start, dies or is stopped, its owner does the work inline, so nothing waits on a thread that is
 * not there. Its owner keeps the requests, sends them to `worker` while there is one, and answers
 * them from `onReply`, or itself once `onLost` is called.
 */
export class FallbackThread<Reply> {
  private running: Worker | undefined
  private stopping = false

  constructor(private readonly options: FallbackThreadOptions<Reply>) {}

  /** The thread to send requests to; undefined while work goes on inline. */
  get worker(): Worker | undefined {
    return this.running
  }

  async start(): Promise<void> {
    if (this.running) return
    this.stopping = false
    const { work, logger } = this.options
    try {
      const started = await startTypeScriptWorker(this.options.entry, {
        name: this.options.threadName,
        workerData: this.options.workerData,
      })
      this.options.onStarted()
      started.on('message', (reply: Reply) => this.options.onReply(reply))
      started.on('error', (error) => this.lose(errorMessage(error)))
      started.on('exit', (code) => this.lose(`exited with code ${code}`))
      this.running = started
    } catch (error) {
      this.options.failures.inc()
      logger.warn({ error: errorMessage(error) }, `${work} thread did not start; working on the main thread`)
    }
  }

  async stop(): Promise<void> {
    const running = this.running
    if (!running) return
    this.stopping = true
    // Callers still waiting get their answers: the thread answers what it has before it goes (a
    // thread that does not within the time owes the rest, which is then done inline).
    const deadline = Date.now() + STOP_WAIT_MS
    while (this.options.pending() > 0 && this.running && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5))
    await running.terminate()
    this.lose('stopped')
  }

  private lose(reason: string): void {
    if (!this.running) return
    this.running = undefined
    if (!this.stopping) {
      this.options.failures.inc()
      this.options.logger.error({ reason }, `${this.options.work} thread stopped; working on the main thread`)
    }
    this.options.onLost()
  }
}
