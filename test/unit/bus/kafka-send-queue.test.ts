import type { TopicMessages } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { createKafkaSendQueue } from '../../../bus/kafka-send-queue.js'
import { eventLoopTurns } from '../../helpers/event-loop.js'

/** A send that records each request and completes when the test says so. */
function controlledSend() {
  const requests: TopicMessages[][] = []
  const finishers: Array<(error?: Error) => void> = []
  const send = (topicMessages: TopicMessages[]): Promise<void> => {
    requests.push(topicMessages)
    return new Promise((resolve, reject) => finishers.push((error) => (error ? reject(error) : resolve())))
  }
  const finish = async (index: number, error?: Error): Promise<void> => {
    finishers[index]?.(error)
    await eventLoopTurns()
  }
  return { send, requests, finish }
}

const message = (value: string) => ({ key: 'k', value })

describe('kafka send queue', () => {
  it('sends at once when idle, and coalesces what arrives during a request into the next one', async () => {
    const { send, requests, finish } = controlledSend()
    const queue = createKafkaSendQueue(send, 1_000_000)
    const first = queue.enqueue('logs', [message('a')], 1)
    expect(requests).toHaveLength(1)
    const second = queue.enqueue('logs', [message('b')], 1)
    const third = queue.enqueue('metrics', [message('c')], 1)
    expect(queue.waitingRecords).toBe(2)
    await finish(0)
    await first
    expect(requests).toHaveLength(2)
    expect(requests[1]).toEqual([
      { topic: 'logs', messages: [message('b')] },
      { topic: 'metrics', messages: [message('c')] },
    ])
    expect(queue.waitingRecords).toBe(0)
    await finish(1)
    await Promise.all([second, third])
  })

  it('caps a request by bytes, but still sends an oversized publish on its own', async () => {
    const { send, requests, finish } = controlledSend()
    const queue = createKafkaSendQueue(send, 10)
    const all = [
      queue.enqueue('t', [message('first')], 4),
      queue.enqueue('t', [message('big')], 50),
      queue.enqueue('t', [message('x')], 6),
      queue.enqueue('t', [message('y')], 4),
    ]
    await finish(0)
    await finish(1)
    await finish(2)
    await Promise.all(all)
    expect(requests.map((r) => r.flatMap((t) => t.messages.map((m) => m.value)))).toEqual([
      ['first'],
      ['big'],
      ['x', 'y'],
    ])
  })

  it('fails exactly the publishes of a failed request, and carries on with the next', async () => {
    const { send, finish } = controlledSend()
    const queue = createKafkaSendQueue(send, 1_000_000)
    const first = queue.enqueue('t', [message('a')], 1)
    const second = queue.enqueue('t', [message('b')], 1)
    const third = queue.enqueue('t', [message('c')], 1)
    await finish(0)
    await first
    const outcomes = Promise.allSettled([second, third])
    await finish(1, new Error('broker gone'))
    expect((await outcomes).map((o) => o.status === 'rejected' && String(o.reason))).toEqual([
      'Error: broker gone',
      'Error: broker gone',
    ])
    const fourth = queue.enqueue('t', [message('d')], 1)
    await finish(2)
    await expect(fourth).resolves.toBeUndefined()
  })
})
