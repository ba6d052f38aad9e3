import { describe, expect, it } from 'vitest'
import { partitionKey, samePartitionKey, type KeyedEnvelope } from '../../../core/index.js'
import { seededRandom } from '../../helpers/seeded-random.js'

describe('samePartitionKey', () => {
  it('is never true for envelopes with different keys, and true for a pod line after line', () => {
    const { next } = seededRandom(3)
    const maybe = <T>(value: T): T | undefined => (next() < 0.5 ? value : undefined)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
    const envelope = (): KeyedEnvelope => ({
      cluster: pick(['c1', 'c2']),
      namespace: maybe(pick(['shop', ''])),
      workload: maybe(
        pick([
          { kind: 'Deployment', name: 'cart' },
          { kind: 'StatefulSet', name: 'cart' },
        ]),
      ),
      pod: maybe(pick(['cart-0', 'Deployment/cart'])),
      node: maybe(pick(['n1', 'n2'])),
    })
    let same = 0
    for (let i = 0; i < 20_000; i++) {
      const a = envelope()
      const b = envelope()
      if (samePartitionKey(a, b)) {
        same++
        expect(partitionKey(a)).toBe(partitionKey(b))
      }
      expect(samePartitionKey(a, { ...a })).toBe(true)
    }
    expect(same).toBeGreaterThan(100)
  })
})
