import type { MetricBatch, MetricSample } from '../../core/index.js'

/** A batch's points as samples, in its order: what a test compares with samples sent one by one. */
export function samplesOfBatch(batch: MetricBatch): MetricSample[] {
  const samples = new Array<MetricSample>(batch.ts.length)
  for (let i = 0; i < batch.ts.length; i++)
    samples[i] = {
      ...(batch.series[batch.seriesIndex[i] as number] as MetricBatch['series'][number]),
      ts: batch.ts[i] as number,
      value: batch.value[i] as number,
    }
  return samples
}
