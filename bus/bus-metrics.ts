import { counter, histogram, type Counter, type Histogram, type Registry } from '../core/index.js'

/** The metrics every Bus implementation reports, under the same names whichever bus runs. */
export interface BusMetrics {
  published: Counter
  consumed: Counter
  failures: Counter
  deadLettered: Counter
  handlerDuration: Histogram
}

export function createBusMetrics(registry: Registry): BusMetrics {
  return {
    published: counter(registry, 'argus_bus_published_messages_total', 'Messages accepted by the bus', [
      'topic',
    ]),
    consumed: counter(
      registry,
      'argus_bus_consumed_messages_total',
      'Messages acknowledged by a consumer group',
      ['topic', 'group'],
    ),
    failures: counter(
      registry,
      'argus_bus_handler_failures_total',
      'Handler failures (each leads to redelivery or dead-letter)',
      ['topic', 'group'],
    ),
    deadLettered: counter(
      registry,
      'argus_bus_dead_lettered_messages_total',
      'Messages sent to the dead-letter topic',
      ['topic', 'group'],
    ),
    handlerDuration: histogram(registry, 'argus_bus_handler_duration_seconds', 'Handler time per batch', [
      'topic',
      'group',
    ]),
  }
}
