import { describe, expect, it } from 'vitest'
import { StreamIdHasher } from '../../../core/stream-id.js'

const idOf = (...fields: string[]): string => {
  const hasher = new StreamIdHasher().begin()
  for (const field of fields) hasher.add(field)
  return hasher.id()
}

describe('StreamIdHasher', () => {
  it('gives the same fields the same 16-hex id, across instances and after reuse', () => {
    const reused = new StreamIdHasher()
    reused.begin().add('other').add('fields').id()
    expect(reused.begin().add('prod').add('cart-0').id()).toBe(idOf('prod', 'cart-0'))
    expect(idOf('prod', 'cart-0')).toMatch(/^[0-9a-f]{16}$/)
  })

  it('gives the id stored ids were made with (a change would split every stored stream in two)', () => {
    expect(idOf('prod')).toBe('ece7d99cb259c921')
    expect(idOf('prod', 'cart-0', '')).toBe('6efb0bef325abf6c')
  })

  it('tells fields apart by where they split, their order and empty ones', () => {
    const ids = new Set([
      idOf('ab', 'c'),
      idOf('a', 'bc'),
      idOf('c', 'ab'),
      idOf('abc'),
      idOf('abc', ''),
      idOf('', 'abc'),
    ])
    expect(ids.size).toBe(6)
  })

  it('spreads 200,000 similar stream identities without a collision', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200_000; i++)
      seen.add(idOf('prod', 'shop', `cart-6d4cf56db6-${i.toString(36)}`, 'cart'))
    expect(seen.size).toBe(200_000)
  })

  it('gives a numeric id of 53 bits that follows the hex id', () => {
    const numeric = (...fields: string[]): number => {
      const hasher = new StreamIdHasher().begin()
      for (const field of fields) hasher.add(field)
      return hasher.numericId()
    }
    const seen = new Set<number>()
    for (let i = 0; i < 200_000; i++) {
      const id = numeric('container_cpu_usage_seconds_total', 'id', String(i))
      expect(Number.isSafeInteger(id) && id >= 0).toBe(true)
      seen.add(id)
    }
    expect(seen.size).toBe(200_000)
    expect(numeric('ab', 'c')).not.toBe(numeric('a', 'bc'))
    // The first 32 bits are the hex id's first eight digits.
    expect(
      Math.floor(numeric('prod', 'cart-0') / 0x200000)
        .toString(16)
        .padStart(8, '0'),
    ).toBe(idOf('prod', 'cart-0').slice(0, 8))
  })
})
