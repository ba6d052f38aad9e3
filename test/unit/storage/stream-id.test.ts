import { describe, expect, it } from 'vitest'
import { StreamIdHasher } from '../../../storage/stream-id.js'

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
})
