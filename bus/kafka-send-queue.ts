import type { Message, TopicMessages } from 'kafkajs'
import { asError } from '../core/index.js'

export interface KafkaSendQueue {
  /**
   * Resolves when Kafka acknowledged these messages, rejects when their request failed. `records`
   * is what they carry (a packed message holds many); the bound is on records.
   */
  enqueue(topic: string, messages: Message[], bytes: number, records?: number): Promise<void>
  /** Records waiting for a request (not yet sent); the caller bounds it. */
  readonly waitingRecords: number
}

interface Waiting {
  topic: string
  messages: Message[]
  bytes: number
  records: number
  settle: (error?: Error) => void
}

/**
 * Coalesces concurrent publishes into one produce request, like the Java producer's batching:
 * with an idempotent producer only one request is in flight, so whatever arrives meanwhile goes
 * out together in the next one. Nothing waits when idle (no linger), so latency stays one round
 * trip; under load each request carries more, which is where Kafka's throughput comes from.
 */
export function createKafkaSendQueue(
  send: (topicMessages: TopicMessages[]) => Promise<unknown>,
  maxRequestBytes: number,
): KafkaSendQueue {
  const queue: Waiting[] = []
  let waitingRecords = 0
  let sending = false

  function takeRequest(): Waiting[] {
    const taken: Waiting[] = []
    let bytes = 0
    while (queue.length > 0) {
      const next = queue[0] as Waiting
      // Always take at least one, so an oversized publish still goes (alone).
      if (taken.length > 0 && bytes + next.bytes > maxRequestBytes) break
      taken.push(next)
      bytes += next.bytes
      waitingRecords -= next.records
      queue.shift()
    }
    return taken
  }

  async function drain(): Promise<void> {
    sending = true
    try {
      while (queue.length > 0) {
        const request = takeRequest()
        const byTopic = new Map<string, Message[]>()
        for (const item of request) {
          const list = byTopic.get(item.topic)
          if (list) for (const m of item.messages) list.push(m)
          else byTopic.set(item.topic, [...item.messages])
        }
        let failure: Error | undefined
        try {
          await send([...byTopic].map(([topic, messages]) => ({ topic, messages })))
        } catch (error) {
          failure = asError(error)
        }
        for (const item of request) item.settle(failure)
      }
    } finally {
      sending = false
    }
  }

  return {
    enqueue(topic, messages, bytes, records = messages.length) {
      return new Promise<void>((resolve, reject) => {
        queue.push({
          topic,
          messages,
          bytes,
          records,
          settle: (error) => (error === undefined ? resolve() : reject(error)),
        })
        waitingRecords += records
        if (!sending) void drain()
      })
    },
    get waitingRecords() {
      return waitingRecords
    },
  }
}
