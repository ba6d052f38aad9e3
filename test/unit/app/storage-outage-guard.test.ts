import { describe, expect, it } from 'vitest'
import { ArgusError, sleep } from '../../../core/index.js'
import type { Subscription } from '../../../bus/index.js'
import { createStorageOutageGuard } from '../../../app/storage-outage-guard.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

function fakeSubscription(): Subscription & { paused: boolean; pauses: number; resumes: number } {
  return {
    group: 'writer',
    paused: false,
    pauses: 0,
    resumes: 0,
    pause() {
      this.paused = true
      this.pauses++
    },
    resume() {
      this.paused = false
      this.resumes++
    },
    stop: () => Promise.resolve(),
  }
}

describe('storage outage guard', () => {
  it('pauses the writer on an unreachable storage and resumes it once storage answers', async () => {
    const subscription = fakeSubscription()
    let up = false
    const guard = createStorageOutageGuard({
      subscription: () => subscription,
      ping: () => (up ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
      logger: quietLogger(),
      probeEveryMs: 10,
    })
    const outage = new ArgusError('ARGUS_ERR_STORAGE_UNAVAILABLE', 'clickhouse unreachable', {
      retriable: true,
    })
    guard.observe(outage)
    guard.observe(outage)
    expect(subscription.paused).toBe(true)
    expect(subscription.pauses).toBe(1)
    await sleep(60)
    expect(subscription.paused).toBe(true)
    up = true
    await sleep(60)
    expect(subscription.paused).toBe(false)
    expect(subscription.resumes).toBe(1)
    guard.stop()
  })

  it('ignores failures that are not an outage (a refused row is not a reason to stop the stream)', () => {
    const subscription = fakeSubscription()
    const guard = createStorageOutageGuard({
      subscription: () => subscription,
      ping: () => Promise.resolve(),
      logger: quietLogger(),
      probeEveryMs: 10,
    })
    guard.observe(new ArgusError('ARGUS_ERR_STORAGE', 'Cannot parse input'))
    guard.observe(new Error('boom'))
    expect(subscription.pauses).toBe(0)
    guard.stop()
  })
})
