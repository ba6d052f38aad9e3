import type { MetricSample } from '../core/index.js'
import type { PrometheusSample } from './prometheus-text.js'
import { inferWorkloadFromPodName } from './pod-workload.js'

/** Labels that locate a series in the cluster (cAdvisor's, then older and app conventions). */
const NAMESPACE_LABELS = ['namespace', 'kubernetes_namespace', 'pod_namespace']
const POD_LABELS = ['pod', 'pod_name', 'kubernetes_pod_name']
const CONTAINER_LABELS = ['container', 'container_name']

const first = (labels: Record<string, string>, names: string[]): string | undefined => {
  for (const name of names) {
    const value = labels[name]
    if (value) return value
  }
  return undefined
}

/**
 * Maps parsed Prometheus series to metric samples with the envelope filled from labels. Drops
 * cAdvisor's `container="POD"` (pause container) series and non-finite values, which carry no signal.
 */
export function toMetricSamples(
  samples: readonly PrometheusSample[],
  context: { cluster: string; now: number; node?: string | undefined },
): MetricSample[] {
  const out: MetricSample[] = []
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue
    const container = first(sample.labels, CONTAINER_LABELS)
    if (container === 'POD') continue
    const metric: MetricSample = {
      ts: sample.timestampMs ?? context.now,
      cluster: context.cluster,
      name: sample.name,
      value: sample.value,
      type: sample.type === 'untyped' ? 'unknown' : sample.type,
      labels: sample.labels,
    }
    const namespace = first(sample.labels, NAMESPACE_LABELS)
    const pod = first(sample.labels, POD_LABELS)
    if (namespace) metric.namespace = namespace
    if (pod) {
      metric.pod = pod
      const workload = inferWorkloadFromPodName(pod)
      if (workload) metric.workload = workload
    }
    if (container) metric.container = container
    const node = sample.labels.node ?? context.node
    if (node) metric.node = node
    const service = sample.labels.service ?? sample.labels.app
    if (service) metric.service = service
    out.push(metric)
  }
  return out
}
