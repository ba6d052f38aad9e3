import type { KafkaMessage } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { RecentPacks } from '../../../bus/recent-packs.js'

const message = (offset: number, value: string): KafkaMessage => ({
  offset: String(offset),
  value: Buffer.from(value),
  key: null,
  timestamp: '0',
  attributes: 0,
  headers: {},
})

describe('RecentPacks', () => {
  it('decodes a pack once for the groups of a topic, and lets it go when all have read it', () => {
    const packs = new RecentPacks(1_000)
    let decoded = 0
    const decode = () => {
      decoded++
      return [{ n: 1 }, { n: 2 }]
    }
    const first = packs.records('logs', 0, message(7, 'pack-7'), 3, decode)
    const second = packs.records('logs', 0, message(7, 'pack-7'), 3, decode)
    expect(second).toBe(first)
    expect(packs.size).toBe(1)
    expect(packs.records('logs', 0, message(7, 'pack-7'), 3, decode)).toBe(first)
    expect(decoded).toBe(1)
    expect(packs.size).toBe(0)
  })

  it('decodes again when the bytes at an offset differ (a recreated topic), or in another partition', () => {
    const packs = new RecentPacks(1_000)
    const before = packs.records('logs', 0, message(7, 'old'), 2, () => ['old'])
    expect(packs.records('logs', 0, message(7, 'new'), 2, () => ['new'])).toEqual(['new'])
    expect(packs.records('logs', 1, message(7, 'old'), 2, () => ['other'])).toEqual(['other'])
    expect(before).toEqual(['old'])
  })

  it('keeps nothing for a topic one group reads, and at most its bound for one that lags', () => {
    const packs = new RecentPacks(50)
    packs.records('logs', 0, message(1, 'a'), 1, () => [1])
    expect(packs.size).toBe(0)
    for (let offset = 0; offset < 100; offset++)
      packs.records('logs', 0, message(offset, `pack-${offset}`), 2, () =>
        Array.from({ length: 10 }, () => offset),
      )
    expect(packs.size).toBe(5)
    let decoded = false
    packs.records('logs', 0, message(0, 'pack-0'), 2, () => ((decoded = true), [0]))
    expect(decoded).toBe(true) // the oldest went first
  })
})
