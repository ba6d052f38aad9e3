import { metricSeriesId, type MetricSample, type MetricSeries, type WorkloadRef } from '../core/index.js'
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

/** What a series' labels give every one of its samples: where it runs in the cluster. */
export interface SeriesEnvelope {
  namespace?: string
  pod?: string
  workload?: WorkloadRef
  container?: string
  node?: string
  service?: string
}

/**
 * The envelope fields a series' labels name; undefined for cAdvisor's `container="POD"` (pause
 * container) series, which carry no signal and are dropped.
 */
export function seriesEnvelope(labels: Record<string, string>, node?: string): SeriesEnvelope | undefined {
  const container = first(labels, CONTAINER_LABELS)
  if (container === 'POD') return undefined
  const envelope: SeriesEnvelope = {}
  const namespace = first(labels, NAMESPACE_LABELS)
  const pod = first(labels, POD_LABELS)
  if (namespace) envelope.namespace = namespace
  if (pod) {
    envelope.pod = pod
    const workload = inferWorkloadFromPodName(pod)
    if (workload) envelope.workload = workload
  }
  if (container) envelope.container = container
  const onNode = labels.node ?? node
  if (onNode) envelope.node = onNode
  const service = labels.service ?? labels.app
  if (service) envelope.service = service
  return envelope
}

/** One sample of a series, its envelope filled in (fields in one order, so samples share a shape). */
export function metricSample(
  cluster: string,
  series: { name: string; labels: Record<string, string> },
  envelope: SeriesEnvelope,
  ts: number,
  value: number,
  type: MetricSample['type'],
): MetricSample {
  const sample: MetricSample = {
    ts,
    cluster,
    name: series.name,
    value,
    type,
    labels: series.labels,
  }
  putEnvelope(sample, envelope)
  return sample
}

/** Sets the envelope's fields one by one, always in this order, so samples and series share shapes. */
function putEnvelope(target: MetricSample | MetricSeries, envelope: SeriesEnvelope): void {
  if (envelope.namespace !== undefined) target.namespace = envelope.namespace
  if (envelope.pod !== undefined) target.pod = envelope.pod
  if (envelope.workload !== undefined) target.workload = envelope.workload
  if (envelope.container !== undefined) target.container = envelope.container
  if (envelope.node !== undefined) target.node = envelope.node
  if (envelope.service !== undefined) target.service = envelope.service
}

/** A series as a MetricBatch carries it: its envelope, name, type and labels, and its storage id. */
export function metricSeries(
  cluster: string,
  series: { name: string; labels: Record<string, string> },
  envelope: SeriesEnvelope,
  type: MetricSample['type'],
): MetricSeries {
  // Built field by field, as metricSample is: an object from a rest pattern or spread gets a map
  // of its own, and every read of such objects' fields went the slow way (200 ns against 14).
  const built: MetricSeries = { cluster, name: series.name, type, labels: series.labels, seriesId: '' }
  putEnvelope(built, envelope)
  built.seriesId = metricSeriesId(built)
  return built
}

/** The sample type a Prometheus family type is stored as. */
export const sampleType = (type: PrometheusSample['type']): MetricSample['type'] =>
  type === 'untyped' ? 'unknown' : type

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
    const envelope = seriesEnvelope(sample.labels, context.node)
    if (envelope === undefined) continue
    out.push(
      metricSample(
        context.cluster,
        sample,
        envelope,
        sample.timestampMs ?? context.now,
        sample.value,
        sampleType(sample.type),
      ),
    )
  }
  return out
}
