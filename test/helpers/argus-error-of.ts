import { ArgusError } from '../../core/index.js'

/** Runs `run`, which must throw an ArgusError, and returns it for assertions on code and message. */
export function argusErrorOf(run: () => unknown): ArgusError {
  try {
    run()
  } catch (error) {
    if (error instanceof ArgusError) return error
    throw error
  }
  throw new Error('expected an ArgusError, but nothing was thrown')
}
