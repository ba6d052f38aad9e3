import type { FastifyPluginAsync } from 'fastify'
import { createApiServer } from '../../api/index.js'
import { createInProcessBus, type Bus } from '../../bus/index.js'
import { createMetricsRegistry, type Registry } from '../../core/index.js'
import { createRawIntake, type RawIntake, type RemoteWriteDecoding } from '../../ingest/index.js'
import { quietLogger } from './quiet-logger.js'

export interface IntakeHarness {
  metrics: Registry
  bus: Bus
  intake: RawIntake
  /** Everything published to a topic from now on, in arrival order. */
  collect<T>(topic: string): Promise<T[]>
  /** An API server with these ingest plugins, for `inject` requests. */
  server(plugins: FastifyPluginAsync[], bodyLimitBytes?: number): ReturnType<typeof createApiServer>
  /** Sums the values of a metric's series whose text matches, as /metrics shows them. */
  metricTotal(pattern: RegExp): Promise<number>
  stop(): Promise<void>
}

/**
 * The real intake on an in-process bus: what the receivers' tests drive. `decodeRemoteWrite` is the
 * intake's option of that name (the app gives its decoding thread's).
 */
export function intakeHarness(
  cluster = 'c1',
  options: { decodeRemoteWrite?: RemoteWriteDecoding['decode'] } = {},
): IntakeHarness {
  const metrics = createMetricsRegistry({ defaultMetrics: false })
  const bus = createInProcessBus({
    logger: quietLogger(),
    metrics,
    partitions: 2,
    partitionCapacity: 100_000,
  })
  const intake = createRawIntake({
    bus,
    logger: quietLogger(),
    metrics,
    cluster,
    publishTimeoutMs: 5_000,
    decodeRemoteWrite: options.decodeRemoteWrite,
  })
  const apps: Array<{ close(): Promise<unknown> }> = []
  let groups = 0
  return {
    metrics,
    bus,
    intake,
    async collect<T>(topic: string) {
      const seen: T[] = []
      await bus.subscribe<T>({
        group: `harness-${groups++}`,
        topics: [topic],
        fromBeginning: false,
        handler: async (batch) => {
          seen.push(...batch.messages.map((m) => m.value))
        },
      })
      return seen
    },
    async server(plugins, bodyLimitBytes = 1 << 20) {
      const app = await createApiServer({
        logger: quietLogger(),
        metrics,
        bodyLimitBytes,
        readiness: [],
        isShuttingDown: () => false,
        plugins,
      })
      apps.push(app)
      return app
    },
    async metricTotal(pattern) {
      return (await metrics.metrics())
        .split('\n')
        .filter((line) => !line.startsWith('#') && pattern.test(line))
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
    },
    async stop() {
      for (const app of apps) await app.close()
      await bus.stop()
    },
  }
}
