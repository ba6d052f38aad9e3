import type { Bus, Subscription } from '../bus/index.js'
import { TOPICS, counter, type Anomaly, type Component, type Logger, type Registry } from '../core/index.js'

export interface StreamAnalyzerOptions<T> {
  /** Names the analyzer in logs and in `argus_analyzer_anomalies_total`. */
  name: string
  bus: Bus
  logger: Logger
  metrics: Registry
  topics: readonly string[]
  /** Consumer group: instances sharing it split the partitions. */
  group: string
  /** What a signal shows; called in partition order. */
  observe(value: T, topic: string, partition: number): readonly Anomaly[]
  /**
   * Called after each batch has been observed: for analyzers that aggregate a batch's signals first.
   * `full` says the batch hit its size limit, so what it cut off of its partition is probably in
   * that partition's next one (batches of other partitions may be handled before it).
   */
  flush?(batch: { full: boolean; partition: number }): Anomaly[]
  /**
   * Findings other than anomalies the batch produced, per topic: published with the anomalies,
   * before the batch is acknowledged.
   */
  outbox?(): Array<{ topic: string; messages: Array<{ key: string; value: unknown }> }>
  /** Publish an anomaly id once even if a redelivery or relist shows it again (bounded memory). */
  dedupe?: boolean
}

const REMEMBERED_IDS = 100_000
const MAX_BATCH = 5_000

/**
 * Runs a signal-to-anomaly analyzer as a consumer group: signals in, anomalies published to the
 * anomalies topic, keyed by cluster (anomalies are few; the incident analyzer needs all of a
 * cluster's on one partition).
 */
export function createStreamAnalyzer<T>(options: StreamAnalyzerOptions<T>): Component {
  const logger = options.logger.child({ component: `${options.name}-analyzer` })
  const found = counter(
    options.metrics,
    'argus_analyzer_anomalies_total',
    'Anomalies published, by analyzer and kind',
    ['analyzer', 'kind'],
  )
  const recent = new Set<string>()
  const fresh = (anomaly: Anomaly): boolean => {
    if (!options.dedupe) return true
    if (recent.has(anomaly.id)) return false
    recent.add(anomaly.id)
    if (recent.size > REMEMBERED_IDS) recent.delete(recent.values().next().value as string)
    return true
  }
  let subscription: Subscription | undefined
  return {
    name: `${options.name}-analyzer`,
    async start() {
      subscription = await options.bus.subscribe<T>({
        group: options.group,
        topics: options.topics,
        maxBatchSize: MAX_BATCH,
        handler: async (batch) => {
          // A loop, not flatMap: most signals find nothing, and a batch holds thousands.
          const anomalies: Anomaly[] = []
          for (const message of batch.messages)
            for (const anomaly of options.observe(message.value, batch.topic, batch.partition))
              if (fresh(anomaly)) anomalies.push(anomaly)
          const full = batch.messages.length >= MAX_BATCH
          for (const anomaly of options.flush?.({ full, partition: batch.partition }) ?? [])
            if (fresh(anomaly)) anomalies.push(anomaly)
          for (const { topic, messages } of options.outbox?.() ?? [])
            if (messages.length > 0) await options.bus.publish(topic, messages)
          if (anomalies.length === 0) return
          await options.bus.publish(
            TOPICS.anomalies,
            // Keyed by cluster: one incident analyzer sees all of a cluster's anomalies, in order.
            anomalies.map((a) => ({ key: a.cluster, value: a })),
          )
          for (const a of anomalies) found.inc({ analyzer: options.name, kind: a.kind })
        },
      })
      logger.info({ topics: options.topics }, 'analyzing')
    },
    async stop() {
      await subscription?.stop()
    },
  }
}
