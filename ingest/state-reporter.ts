import type { ObjectState } from '../core/index.js'
import { stateSignature } from './object-state.js'
import type { RawIntake } from './raw-intake.js'

const keyOf = (state: ObjectState): string =>
  `${state.resource.kind}/${state.resource.namespace ?? ''}/${state.resource.name}`

/**
 * Publishes pod and node states only when they differ from what was last reported for the same
 * object, so status heartbeats, relists and periodic full descriptions add no rows. Holds one
 * entry per live object; deleted objects are forgotten.
 */
export class StateReporter {
  private readonly reported = new Map<string, { signature: string; ts: number }>()

  constructor(private readonly intake: Pick<RawIntake, 'objectStates'>) {}

  async report(states: ReadonlyArray<ObjectState | undefined>): Promise<number> {
    const fresh: Array<{ state: ObjectState; key: string; signature: string }> = []
    for (const state of states) {
      if (!state) continue
      const key = keyOf(state)
      const signature = stateSignature(state)
      const last = this.reported.get(key)
      if (last?.signature === signature) continue
      // A change without a newer transition time (new service membership) is stamped now, so it
      // does not replace the earlier row in storage.
      if (last && state.ts <= last.ts) state.ts = Math.max(Date.now(), last.ts + 1)
      fresh.push({ state, key, signature })
    }
    if (fresh.length === 0) return 0
    await this.intake.objectStates(fresh.map((f) => f.state))
    // Remembered only once published: a failed publish is retried with the same verdicts.
    for (const { state, key, signature } of fresh) {
      if (state.deleted) this.reported.delete(key)
      else this.reported.set(key, { signature, ts: state.ts })
    }
    return fresh.length
  }
}
