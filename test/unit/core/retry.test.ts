import { describe, expect, it } from 'vitest'
import { ArgusError, backoffDelay, DEFAULT_RETRY, retry } from '../../../core/index.js'

const noSleep = (): Promise<void> => Promise.resolve()

describe('retry', () => {
  it('retries retriable failures until the operation succeeds', async () => {
    let calls = 0
    const result = await retry(
      async () => {
        calls++
        if (calls < 3) throw new ArgusError('ARGUS_ERR_STORAGE_UNAVAILABLE', 'down', { retriable: true })
        return 'ok'
      },
      { sleep: noSleep },
    )
    expect(result).toBe('ok')
    expect(calls).toBe(3)
  })

  it('does not retry a permanent error', async () => {
    let calls = 0
    const permanent = new ArgusError('ARGUS_ERR_BAD_INPUT', 'bad')
    await expect(
      retry(
        async () => {
          calls++
          throw permanent
        },
        { sleep: noSleep },
      ),
    ).rejects.toBe(permanent)
    expect(calls).toBe(1)
  })

  it('gives up after the budget with the last error as cause', async () => {
    const last = new Error('still down')
    const error = await retry(
      async () => {
        throw last
      },
      { maxAttempts: 4, sleep: noSleep },
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArgusError)
    expect((error as ArgusError).code).toBe('ARGUS_ERR_RETRY_EXHAUSTED')
    expect((error as ArgusError).cause).toBe(last)
  })

  it('backs off exponentially up to the cap, with bounded jitter', () => {
    const options = { ...DEFAULT_RETRY, initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0.2 }
    expect(backoffDelay(1, options, () => 0.5)).toBe(100)
    expect(backoffDelay(3, options, () => 0.5)).toBe(400)
    expect(backoffDelay(10, options, () => 0.5)).toBe(1000)
    expect(backoffDelay(2, options, () => 0)).toBe(160)
    expect(backoffDelay(2, options, () => 1)).toBe(240)
  })
})
