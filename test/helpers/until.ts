import { sleep } from '../../core/index.js'

/** Polls until `find` answers something (sync or async), or fails naming what was awaited. */
export async function until<T>(
  find: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = await find()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`not seen in time: ${what}`)
    await sleep(everyMs)
  }
}
