import { ArgusError } from './errors.js'
import type { MetricBatch, MetricSeries } from './schemas/signals.js'

// Not a closure inside the check: a function made per call (and named by the loader) cost about a
// microsecond a batch, more than checking its points.
const bad = (why: string): ArgusError =>
  new ArgusError('ARGUS_ERR_BAD_INPUT', `malformed metric batch: ${why}`)

/**
 * Throws a non-retriable ARGUS_ERR_BAD_INPUT unless the batch's columns line up: as long as each
 * other, each point naming one of its series, with a whole positive time and a number as value.
 * A consumer checks a batch before reading any of it, so a bad one is dead-lettered, not half
 * used. Its series are checked where they are read (see checkMetricSeries): reading every one
 * here too cost a cache miss per series, about a tenth of what a point cost the writer.
 */
export function checkMetricBatch(batch: MetricBatch): void {
  const { series, seriesIndex, ts, value } = batch
  if (!Array.isArray(series) || !Array.isArray(seriesIndex) || !Array.isArray(ts) || !Array.isArray(value))
    throw bad('series, seriesIndex, ts and value must be arrays')
  if (seriesIndex.length !== ts.length || value.length !== ts.length)
    throw bad('seriesIndex, ts and value differ in length')
  for (let i = 0; i < ts.length; i++) {
    const index = seriesIndex[i]
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= series.length)
      throw bad(`point ${i} names no series`)
    const time = ts[i]
    if (!Number.isSafeInteger(time) || (time as number) <= 0) throw bad(`point ${i} has no valid time`)
    if (typeof value[i] !== 'number') throw bad(`point ${i} has no numeric value`)
  }
}

/**
 * Throws as checkMetricBatch does unless `series` is one: an id, a name and a cluster, and labels.
 * Consumers call it on a series they have not seen before, as they first read it.
 */
export function checkMetricSeries(series: MetricSeries | undefined): void {
  if (
    typeof series?.seriesId !== 'string' ||
    typeof series.name !== 'string' ||
    typeof series.cluster !== 'string' ||
    typeof series.labels !== 'object' ||
    series.labels === null
  )
    throw bad('a series has no id, name, cluster or labels')
}
