import { describe, expect, it } from 'vitest'
import type { Bus, OutgoingMessage } from '../../../bus/index.js'
import { TOPICS, createMetricsRegistry } from '../../../core/index.js'
import { createRawIntake } from '../../../ingest/index.js'
import { stillReachable } from '../../helpers/collect-garbage.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { until } from '../../helpers/until.js'

/** A bus whose publish keeps nothing (as the Kafka bus once it has packed) and waits for the test. */
function holdingBus() {
  const published: Array<{ topic: string; count: number; refs: Array<WeakRef<object>> }> = []
  let acknowledge: () => void = () => undefined
  const bus = {
    publish: (topic: string, messages: ReadonlyArray<OutgoingMessage<object>>) => {
      published.push({ topic, count: messages.length, refs: messages.map((m) => new WeakRef(m.value)) })
      return new Promise<void>((resolve) => (acknowledge = resolve))
    },
  } as unknown as Bus
  return { bus, published, acknowledge: () => acknowledge() }
}

describe('raw intake', () => {
  it('holds neither the given log records nor the normalised ones while the bus acknowledges', async () => {
    const { bus, published, acknowledge } = holdingBus()
    const metrics = createMetricsRegistry({ defaultMetrics: false })
    const intake = createRawIntake({
      bus,
      logger: quietLogger(),
      metrics,
      cluster: 'c1',
      publishTimeoutMs: 5_000,
    })
    const given: Array<WeakRef<object>> = []
    const records = (): object[] =>
      Array.from({ length: 20 }, (_, i) => {
        const record =
          i === 5
            ? { log: 42 }
            : { log: `line ${i}`, kubernetes: { namespace_name: 'shop', pod_name: 'cart-1' } }
        given.push(new WeakRef(record))
        return record
      })
    const result = intake.fluentRecords(records(), 'fluent-bit-http', { 'fluent.tag': 'kube.cart' })
    const sent = await until(() => published[0], 'a publish')
    expect(sent).toMatchObject({ topic: TOPICS.logs, count: 19 })
    try {
      expect(await stillReachable(given)).toBe(0)
      expect(await stillReachable(sent.refs)).toBe(0)
    } finally {
      acknowledge()
    }
    expect(await result).toEqual({ accepted: 19, rejected: [{ index: 5, reason: expect.any(String) }] })
  })
})
