import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { eventLoopTurns } from './event-loop.js'

// Exposes V8's gc() to a test without a command-line flag: a context made after the flag has it.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * How many of the objects `refs` point to can still be reached, after full collections. Used to
 * check that a component does not hold what it no longer needs while it waits (records held across
 * an await outlive young-generation collections and are copied and promoted: the cost this guards).
 */
export async function stillReachable(refs: ReadonlyArray<WeakRef<object>>): Promise<number> {
  for (let i = 0; i < 3; i++) {
    // A WeakRef's target is kept until the current job ends: let it end, then collect.
    await eventLoopTurns()
    gc()
  }
  return refs.filter((ref) => ref.deref() !== undefined).length
}
