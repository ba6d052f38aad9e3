import { compressSync } from 'snappy'
import { REMOTE_WRITE_PROTO } from '../../ingest/index.js'
import { seededRandom } from './seeded-random.js'

const WriteRequest = REMOTE_WRITE_PROTO.lookupType('prometheus.WriteRequest')

export interface WriteRequestMessage {
  timeseries: Array<{
    labels: Array<{ name: string; value: string }>
    samples: Array<{ value: number; timestamp: number }>
  }>
  metadata: Array<{ type: number; metric_family_name: string; help: string }>
}

/** A WriteRequest as Prometheus sends it: protobuf, then snappy. */
export const remoteWriteBody = (message: object): Buffer =>
  compressSync(Buffer.from(WriteRequest.encode(WriteRequest.fromObject(message)).finish()))

/**
 * `count` WriteRequests drawn from a few names, namespaces, pods and codes, so series repeat across
 * requests; some requests carry metadata that retypes a family, some samples are NaN.
 */
export function generatedWriteRequests(seed: number, count: number, from: number): WriteRequestMessage[] {
  const { next } = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const names = ['up', 'http_requests_total', 'container_memory_working_set_bytes', 'queue_depth']
  return Array.from({ length: count }, () => {
    const timeseries = Array.from({ length: 1 + Math.floor(next() * 20) }, () => {
      const labels: Record<string, string> = { __name__: pick(names) }
      if (next() < 0.8) labels.namespace = pick(['shop', 'pay'])
      if (next() < 0.8) labels.pod = pick(['cart-6d4cf56db6-x7k2p', 'db-0', 'worker-1'])
      if (next() < 0.5) labels.container = pick(['cart', 'POD', 'db'])
      if (next() < 0.5) labels.code = pick(['200', '500'])
      return {
        labels: Object.entries(labels).map(([name, value]) => ({ name, value })),
        samples: Array.from({ length: Math.floor(next() * 3) }, (_, i) => ({
          value: next() < 0.05 ? Number.NaN : Math.round(next() * 1000),
          timestamp: from + i * 15_000,
        })),
      }
    })
    const metadata = next() < 0.3 ? [{ type: 1, metric_family_name: 'http_requests', help: 'x' }] : []
    return { timeseries, metadata }
  })
}
