import { describe, expect, it } from 'vitest'
import { isPlainObject, sameFlatValue } from '../../../core/index.js'

describe('flat objects', () => {
  it('tells plain objects from arrays, class instances and primitives', () => {
    expect([{}, Object.create(null), Object.freeze({ a: 1 })].every(isPlainObject)).toBe(true)
    expect([[], new Date(0), new Map(), null, 'x', 1].some(isPlainObject)).toBe(false)
  })

  it('equates the same value, or flat objects with the same keys and primitive values', () => {
    expect(sameFlatValue('a', 'a')).toBe(true)
    expect(sameFlatValue({ a: '1', b: 2 }, { b: 2, a: '1' })).toBe(true)
    expect(sameFlatValue({ a: '1' }, { a: 1 })).toBe(false)
    expect(sameFlatValue({ a: '1' }, { a: '1', b: undefined })).toBe(false)
    expect(sameFlatValue({ a: { b: 1 } }, { a: { b: 1 } })).toBe(false)
    expect(sameFlatValue([1], [1])).toBe(false)
  })
})
