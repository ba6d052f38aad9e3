import type { Envelope } from './schemas/envelope.js'
import type { MetricSample, MetricSeries } from './schemas/signals.js'
import { StreamIdHasher } from './stream-id.js'

const hasher = new StreamIdHasher()

/**
 * Starts the identity of a log stream or metric series with its envelope (not its time or
 * attributes, which the caller adds as it must). Stored ids depend on this order: changing it
 * starts every stream and series again under a new id.
 */
export function envelopeIdentity(e: Omit<Envelope, 'ts'>): StreamIdHasher {
  return hasher
    .begin()
    .add(e.cluster)
    .add(e.namespace ?? '')
    .add(e.workload?.kind ?? '')
    .add(e.workload?.name ?? '')
    .add(e.pod ?? '')
    .add(e.container ?? '')
    .add(e.node ?? '')
    .add(e.service ?? '')
}

/**
 * A metric series' id, the key storage files its points under: its envelope, name, type, labels
 * (in their order) and envelope attributes. A receiver that decodes a series once for all its
 * samples computes it then and sets `seriesId`, so it is not hashed again per sample.
 */
export function metricSeriesId(sample: MetricSample | Omit<MetricSeries, 'seriesId'>): string {
  const identity = envelopeIdentity(sample)
    .add(sample.name)
    .add(sample.type ?? 'unknown')
  for (const key in sample.labels) identity.add(key).add(sample.labels[key] as string)
  // Envelope attributes are rare on samples; a marker keeps them apart from labels.
  if (sample.attributes)
    for (const key in sample.attributes)
      identity
        .add('@')
        .add(key)
        .add(sample.attributes[key] as string)
  return identity.id()
}
