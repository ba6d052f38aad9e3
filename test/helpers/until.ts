import { sleep } from '../../core/index.js'

/** Polls until `find` answers something (sync or async), or fails naming what was awaited. */
export async function until<T>(
  find: () => T | undefined | Promise<T | undefined>,
  /** What was awaited; a function when the failure should say what was seen instead. */
  what: string | (() => string),
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline)
      throw new Error(`not seen in time: ${typeof what === 'string' ? what : what()}`)
    await sleep(everyMs)
  }
}
