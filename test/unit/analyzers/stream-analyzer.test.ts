import { describe, expect, it } from 'vitest'
import { createStreamAnalyzer } from '../../../analyzers/stream-analyzer.js'
import { TOPICS, type WorkloadForecast } from '../../../core/index.js'
import { intakeHarness } from '../../helpers/intake-harness.js'
import { quietLogger } from '../../helpers/quiet-logger.js'
import { until } from '../../helpers/until.js'

describe('stream analyzer', () => {
  it('publishes what its outbox holds after each batch, on the outbox topic, keyed as given', async () => {
    const harness = intakeHarness()
    const forecasts = await harness.collect<WorkloadForecast>(TOPICS.forecasts)
    let pending: WorkloadForecast[] = []
    const analyzer = createStreamAnalyzer<{ name: string; rate: number }>({
      name: 'test',
      bus: harness.bus,
      logger: quietLogger(),
      metrics: harness.metrics,
      group: 'test-analyzer',
      topics: ['test.input'],
      observe: (value) => {
        pending.push({
          ts: 1,
          cluster: 'c1',
          namespace: 'shop',
          workload: { kind: 'Deployment', name: value.name },
          indicator: 'request_rate',
          current: value.rate,
          predicted: value.rate * 2,
          horizonMs: 60_000,
          modelVersion: 1,
        })
        return []
      },
      outbox: () => {
        const out = pending
        pending = []
        return [
          { topic: TOPICS.forecasts, messages: out.map((f) => ({ key: f.workload?.name ?? '', value: f })) },
        ]
      },
    })
    await analyzer.start()
    await harness.bus.publish('test.input', [
      { key: 'a', value: { name: 'cart', rate: 10 } },
      { key: 'a', value: { name: 'cart', rate: 20 } },
    ])
    await until(() => (forecasts.length === 2 ? true : undefined), 'two forecasts')
    expect(forecasts.map((f) => f.predicted)).toEqual([20, 40])
    await analyzer.stop()
    await harness.stop()
  })
})
