import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client'

export { Counter, Gauge, Histogram, Registry }

/** One registry per process, passed to components; names follow `argus_<component>_<what>_<unit>`. */
export function createMetricsRegistry(
  options: { defaultMetrics: boolean } = { defaultMetrics: true },
): Registry {
  const registry = new Registry()
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'argus_process_' })
  return registry
}

/** Returns the metric already registered under `name`, or registers a new one; lets tests build components twice. */
export function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as Counter
  return new Counter({ name, help, labelNames, registers: [registry] })
}

export function gauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[] = [],
  /** Computes the value at scrape time (for lag and queue depths). */
  collect?: (this: Gauge) => void,
): Gauge {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as Gauge
  return new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) })
}

export function histogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[] = [],
  buckets: number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
): Histogram {
  const existing = registry.getSingleMetric(name)
  if (existing) return existing as Histogram
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] })
}
