import { ArgusError, isRetriable } from './errors.js'

export interface RetryOptions {
  /** Attempts in all, the first included. `Infinity` retries until success or abort. */
  maxAttempts: number
  initialDelayMs: number
  maxDelayMs: number
  /** Multiplier per attempt. */
  factor: number
  /** Fraction of each delay that is randomised, so many clients do not retry in lockstep. */
  jitter: number
  signal?: AbortSignal
  /** Called before each wait; for logging and metrics. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void
  /** Overrides the default test (`isRetriable`). */
  shouldRetry?: (error: unknown) => boolean
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.2,
}

export function backoffDelay(
  attempt: number,
  options: RetryOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** (attempt - 1))
  const spread = base * options.jitter
  return Math.max(0, Math.round(base - spread + random() * 2 * spread))
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ArgusError('ARGUS_ERR_STOPPED', 'aborted', { cause: signal.reason }))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new ArgusError('ARGUS_ERR_STOPPED', 'aborted', { cause: signal?.reason }))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * The one retry function (kafkajs `retry/index.js`): exponential backoff with jitter and a cap.
 * Permanent errors are thrown at once; when the budget runs out the last error is the `cause`.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  overrides: Partial<RetryOptions> = {},
): Promise<T> {
  const options: RetryOptions = { ...DEFAULT_RETRY, ...overrides }
  const shouldRetry = options.shouldRetry ?? isRetriable
  const wait = options.sleep ?? sleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt)
    } catch (error) {
      if (!shouldRetry(error)) throw error
      if (attempt >= options.maxAttempts) {
        throw new ArgusError('ARGUS_ERR_RETRY_EXHAUSTED', `gave up after ${attempt} attempts`, {
          cause: error,
          retriable: false,
        })
      }
      const delayMs = backoffDelay(attempt, options, options.random)
      options.onRetry?.({ attempt, delayMs, error })
      await wait(delayMs, options.signal)
    }
  }
}
