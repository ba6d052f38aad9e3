import type { Bus } from '../bus/index.js'
import {
  TOPICS,
  type Component,
  type KubeEvent,
  type Logger,
  type ObjectState,
  type Registry,
} from '../core/index.js'
import { eventAnomaly, stateAnomalies } from './kube-rules.js'
import { createStreamAnalyzer } from './stream-analyzer.js'
import { WarningEscalation } from './warning-escalation.js'

export interface KubeAnalyzerOptions {
  bus: Bus
  logger: Logger
  metrics: Registry
  group?: string
}

/**
 * What Kubernetes reports itself: Warning events and pod and node states in, anomalies out (OOM
 * kills, crash loops, image pulls, evictions, scheduling failures, NotReady nodes, pressure). A
 * relisted object repeats its state, so ids are deduplicated.
 */
export function createKubeAnalyzer(options: KubeAnalyzerOptions): Component {
  const escalation = new WarningEscalation()
  return createStreamAnalyzer<KubeEvent | ObjectState>({
    ...options,
    name: 'kube',
    group: options.group ?? 'argus-analyzer-kube',
    topics: [TOPICS.kubeEvents, TOPICS.objectStates],
    dedupe: true,
    observe: (value, topic) => {
      if (topic !== TOPICS.kubeEvents) return stateAnomalies(value as ObjectState)
      const event = value as KubeEvent
      const anomaly = eventAnomaly(event)
      return anomaly && escalation.isNews(event) ? [anomaly] : []
    },
  })
}
