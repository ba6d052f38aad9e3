import { isArgusError, type Logger } from '../core/index.js'
import type { Subscription } from '../bus/index.js'

export interface StorageOutageGuard {
  /** Call with every writer failure; a storage outage pauses the subscription until storage answers. */
  observe(error: unknown): void
  stop(): void
}

/**
 * Backpressure for the storage writer: while ClickHouse is unreachable the in-flight batch keeps
 * retrying, and the subscription is paused so the bus stops fetching more (Kafka keeps it; the
 * in-process bus holds it in its bounded buffers, whose producers then wait or get 503s).
 */
export function createStorageOutageGuard(options: {
  subscription: () => Subscription | undefined
  ping: () => Promise<unknown>
  logger: Logger
  probeEveryMs: number
}): StorageOutageGuard {
  let probe: NodeJS.Timeout | undefined
  let probing = false

  function resumeWhenHealthy(): void {
    probe = setInterval(() => {
      if (probing) return
      probing = true
      options
        .ping()
        .then(() => {
          clearInterval(probe)
          probe = undefined
          options.subscription()?.resume()
          options.logger.info('storage answers again; writer resumed')
        })
        .catch(() => undefined)
        .finally(() => {
          probing = false
        })
    }, options.probeEveryMs)
  }

  return {
    observe(error) {
      if (!isArgusError(error) || error.code !== 'ARGUS_ERR_STORAGE_UNAVAILABLE') return
      const subscription = options.subscription()
      if (!subscription || subscription.paused) return
      subscription.pause()
      options.logger.warn({ err: error }, 'storage unreachable; writer paused until it answers')
      resumeWhenHealthy()
    },
    stop() {
      clearInterval(probe)
      probe = undefined
    },
  }
}
