/** Lets the event loop run `turns` times (each a setImmediate), so queued callbacks and I/O go first. */
export async function eventLoopTurns(turns = 1): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
}
