import type { Bus, Subscription } from '../bus/index.js'
import {
  TOPICS,
  counter,
  partitionKey,
  type Anomaly,
  type Component,
  type KubeEvent,
  type Logger,
  type ObjectState,
  type Registry,
} from '../core/index.js'
import { eventAnomaly, stateAnomalies } from './kube-rules.js'

export interface KubeAnalyzerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  /** Consumer group: analyzer processes sharing it split the partitions. */
  group?: string
}

/** Ids published lately: a redelivered or relisted signal does not publish its anomaly twice. */
const REMEMBERED_IDS = 100_000

/**
 * The analyzer for what Kubernetes reports itself: Warning events and pod and node states in,
 * anomalies out (OOM kills, crash loops, image pulls, evictions, scheduling failures, NotReady
 * nodes, pressure). Consumes as a group, so it scales out with Kafka partitions.
 */
export function createKubeAnalyzer(options: KubeAnalyzerOptions): Component {
  const logger = options.logger.child({ component: 'kube-analyzer' })
  const found = counter(
    options.metrics,
    'argus_analyzer_anomalies_total',
    'Anomalies published, by analyzer and kind',
    ['analyzer', 'kind'],
  )
  const recent = new Set<string>()
  let subscription: Subscription | undefined

  const fresh = (anomaly: Anomaly): boolean => {
    if (recent.has(anomaly.id)) return false
    recent.add(anomaly.id)
    if (recent.size > REMEMBERED_IDS) recent.delete(recent.values().next().value as string)
    return true
  }

  return {
    name: 'kube-analyzer',
    async start() {
      subscription = await options.bus.subscribe<KubeEvent | ObjectState>({
        group: options.group ?? 'argus-analyzer-kube',
        topics: [TOPICS.kubeEvents, TOPICS.objectStates],
        maxBatchSize: 2_000,
        handler: async (batch) => {
          const anomalies: Anomaly[] = []
          for (const message of batch.messages) {
            const found =
              batch.topic === TOPICS.kubeEvents
                ? [eventAnomaly(message.value as KubeEvent)].filter((a): a is Anomaly => a !== undefined)
                : stateAnomalies(message.value as ObjectState)
            anomalies.push(...found.filter(fresh))
          }
          if (anomalies.length === 0) return
          await options.bus.publish(
            TOPICS.anomalies,
            anomalies.map((a) => ({ key: partitionKey(a), value: a })),
          )
          for (const a of anomalies) found.inc({ analyzer: 'kube', kind: a.kind })
        },
      })
      logger.info('analyzing Kubernetes events and states')
    },
    async stop() {
      await subscription?.stop()
    },
  }
}
