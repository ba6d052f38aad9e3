import { describe, expect, it } from 'vitest'
import { setBounded } from '../../../core/index.js'

describe('setBounded', () => {
  it('keeps at most max keys, dropping the least recently set first', () => {
    const map = new Map<string, number>()
    for (const key of ['a', 'b', 'c']) setBounded(map, key, 1, 3)
    setBounded(map, 'a', 2, 3) // a is newest again
    setBounded(map, 'd', 1, 3) // so b goes
    expect([...map]).toEqual([
      ['c', 1],
      ['a', 2],
      ['d', 1],
    ])
  })
})
