import {
  TOPICS,
  asError,
  counter,
  partitionKey,
  samePartitionKey,
  type Envelope,
  type Logger,
  type LogRecord,
  type ObjectState,
  type Registry,
} from '../core/index.js'
import { UnconfirmedPublish, type Bus, type OutgoingMessage } from '../bus/index.js'
import { normaliseAlertmanagerAlert, type AlertmanagerGroup } from './alertmanager-alert.js'
import { normaliseCalicoFlow } from './calico-flow.js'
import { normaliseFluentRecord, type NormaliseContext } from './fluent-record.js'
import type { Normalised } from './json-object.js'
import { normaliseKubeEvent } from './kube-event.js'
import { toMetricSamples } from './metric-samples.js'
import { objectChanges } from './object-change.js'
import { parsePrometheusText, type PrometheusSample } from './prometheus-text.js'
import { RemoteWriteDecoder, type DecodedRequest } from './remote-write.js'

export interface IntakeResult {
  accepted: number
  rejected: Array<{ index: number; reason: string }>
}

/** An object update as a watch delivers it. */
export interface ObjectUpdate {
  before?: unknown
  after?: unknown
  deleted?: boolean
  /** When the update was observed; defaults to now. */
  observedAt?: number
}

/**
 * The entry points for raw telemetry in the formats its sources deliver. A publish the bus could not
 * confirm in time fails with `UnconfirmedPublish<IntakeResult>`: its outcome is this call's result
 * if the records landed after all. Receivers (HTTP, watch,
 * scrape) and the simulator both come through here, so every source exercises the same parsers.
 */
export interface RawIntake {
  /**
   * `attributes` are added to every record (e.g. the fluentd tag from the request path). The
   * records are normalised before this returns and not referenced afterwards.
   */
  fluentRecords(
    records: readonly unknown[],
    source: string,
    attributes?: Record<string, string>,
    /** Per-record event times (epoch ms) when the protocol carries them beside the record. */
    eventTimes?: readonly number[],
  ): Promise<IntakeResult>
  kubeEvents(events: readonly unknown[]): Promise<IntakeResult>
  objectUpdates(updates: readonly ObjectUpdate[]): Promise<IntakeResult>
  /** Pod and node states, built by the collector (they need its view of ownership and services). */
  objectStates(states: readonly ObjectState[]): Promise<IntakeResult>
  /** `labels` are the target's (job, instance): added to series that lack them, as Prometheus does. */
  prometheusText(
    text: string,
    scrape: { node?: string; ts?: number; labels?: Record<string, string> },
  ): Promise<IntakeResult>
  /**
   * A Prometheus remote_write request body (snappy, protobuf), each sample with its own time.
   * Throws ARGUS_ERR_BAD_INPUT for a body that is not one; `skipped` counts native histograms.
   */
  remoteWrite(body: Buffer, maxUncompressedBytes: number): Promise<IntakeResult & { skipped: number }>
  calicoFlows(records: readonly unknown[]): Promise<IntakeResult>
  /** The alerts of one Alertmanager webhook call. */
  alertmanagerAlerts(group: AlertmanagerGroup): Promise<IntakeResult>
}

function withTargetLabels(
  samples: PrometheusSample[],
  labels: Record<string, string> | undefined,
): PrometheusSample[] {
  if (!labels) return samples
  for (const sample of samples) sample.labels = { ...labels, ...sample.labels }
  return samples
}

type DecodeRemoteWrite = (body: Buffer, maxUncompressedBytes: number) => Promise<DecodedRequest>

/** remote_write decoding on the calling thread, by a decoder of its own. */
function decodingOnThisThread(cluster: string): DecodeRemoteWrite {
  const decoder = new RemoteWriteDecoder(cluster)
  return async (body, maxUncompressedBytes) => decoder.decode(body, maxUncompressedBytes)
}

export function createRawIntake(options: {
  bus: Bus
  logger: Logger
  metrics: Registry
  cluster: string
  publishTimeoutMs: number
  /**
   * Called on each batch of valid log records before they are published (the app sets template
   * ids); the records are published once what it returns has settled.
   */
  annotateLogs?: (records: LogRecord[]) => void | Promise<void>
  /** Decodes remote_write bodies (the app's runs on a thread of its own); on this thread by default. */
  decodeRemoteWrite?: DecodeRemoteWrite
}): RawIntake {
  const received = counter(
    options.metrics,
    'argus_ingest_signals_total',
    'Raw signals received, by kind and outcome',
    ['kind', 'outcome'],
  )
  const logger = options.logger.child({ component: 'ingest' })

  function publish<T extends Envelope>(
    topic: string,
    kind: string,
    results: ReadonlyArray<Normalised<T>>,
  ): Promise<IntakeResult> {
    const messages: OutgoingMessage<T>[] = []
    const rejected: IntakeResult['rejected'] = []
    // A record keyed as the one before it (one pod's lines come together) takes its key as it is.
    let previous: T | undefined
    let previousKey = ''
    results.forEach((result, index) => {
      if (!result.ok) {
        rejected.push({ index, reason: result.reason })
        return
      }
      const record = result.record
      const key =
        previous !== undefined && samePartitionKey(previous, record) ? previousKey : partitionKey(record)
      previous = record
      previousKey = key
      messages.push({ key, value: record })
    })
    return publishMessages(topic, kind, messages, rejected)
  }

  // Not async, as the bus's publish: only the counts wait for the bus, not the records (see
  // fluentRecords).
  function publishMessages<T>(
    topic: string,
    kind: string,
    messages: OutgoingMessage<T>[],
    rejected: IntakeResult['rejected'],
    /** Signals the messages hold, when one may hold several (a batch). */
    signals = messages.length,
  ): Promise<IntakeResult> {
    const result = { accepted: signals, rejected }
    const count = (): IntakeResult => {
      received.inc({ kind, outcome: 'accepted' }, result.accepted)
      if (rejected.length > 0) {
        received.inc({ kind, outcome: 'rejected' }, rejected.length)
        logger.warn({ kind, rejected: rejected.length, first: rejected[0] }, 'signals rejected')
      }
      return result
    }
    return settlePublish(options.bus.publish(topic, messages, { timeoutMs: options.publishTimeoutMs }), count)
  }

  async function settlePublish(published: Promise<void>, count: () => IntakeResult): Promise<IntakeResult> {
    try {
      await published
    } catch (error) {
      // Passed on with what the request achieved, should the publish land after all.
      if (error instanceof UnconfirmedPublish)
        throw new UnconfirmedPublish<IntakeResult>(
          error.message,
          error.outcome.then((landed) => (landed ? count() : undefined)),
        )
      throw error
    }
    return count()
  }

  /** Normalises log records and adds `attributes` to each valid one. */
  function normaliseLogs(
    records: readonly unknown[],
    source: string,
    attributes: Record<string, string> | undefined,
    eventTimes: readonly number[] | undefined,
  ): { results: Array<Normalised<LogRecord>>; valid: LogRecord[] } {
    // One context object for the whole call; the per-record event time is set on it in turn.
    const logContext: NormaliseContext = { ...context(), source, attributes }
    const results = new Array<Normalised<LogRecord>>(records.length)
    const valid: LogRecord[] = []
    for (let i = 0; i < records.length; i++) {
      logContext.eventTs = eventTimes?.[i]
      const result = normaliseFluentRecord(records[i], logContext)
      if (result.ok) valid.push(result.record)
      results[i] = result
    }
    return { results, valid }
  }

  async function annotateAndPublish(
    results: ReadonlyArray<Normalised<LogRecord>>,
    valid: LogRecord[],
  ): Promise<IntakeResult> {
    await options.annotateLogs?.(valid)
    return publish(TOPICS.logs, 'log', results)
  }

  const decodeRemoteWrite = options.decodeRemoteWrite ?? decodingOnThisThread(options.cluster)
  const context = (): { cluster: string; now: number } => ({ cluster: options.cluster, now: Date.now() })

  return {
    // Not async: the shipper's records are normalised before this returns and not held while the
    // normalised ones are annotated and published (a caller that drops them too lets them die young).
    fluentRecords: (records, source, attributes, eventTimes) => {
      let normalised: ReturnType<typeof normaliseLogs>
      try {
        normalised = normaliseLogs(records, source, attributes, eventTimes)
      } catch (error) {
        return Promise.reject(asError(error))
      }
      return annotateAndPublish(normalised.results, normalised.valid)
    },
    kubeEvents: (events) =>
      publish(
        TOPICS.kubeEvents,
        'kube_event',
        events.map((e) => normaliseKubeEvent(e, context())),
      ),
    objectUpdates: (updates) =>
      publish(
        TOPICS.resourceChanges,
        'resource_change',
        updates.flatMap((u) =>
          objectChanges(u.before, u.after, {
            cluster: options.cluster,
            now: u.observedAt ?? Date.now(),
            deleted: u.deleted ?? false,
          }).map((record) => ({ ok: true as const, record })),
        ),
      ),
    objectStates: (states) =>
      publish(
        TOPICS.objectStates,
        'object_state',
        states.map((record) => ({ ok: true as const, record })),
      ),
    prometheusText: (text, scrape) =>
      publish(
        TOPICS.metrics,
        'metric',
        toMetricSamples(withTargetLabels(parsePrometheusText(text), scrape.labels), {
          cluster: options.cluster,
          now: scrape.ts ?? Date.now(),
          node: scrape.node,
        }).map((record) => ({
          ok: true as const,
          record,
        })),
      ),
    remoteWrite: async (body, maxUncompressedBytes) => {
      const { batches, samples, skipped } = await decodeRemoteWrite(body, maxUncompressedBytes)
      return { ...(await publishMessages(TOPICS.metricBatches, 'metric', batches, [], samples)), skipped }
    },
    alertmanagerAlerts: (group) =>
      publish(
        TOPICS.externalAlerts,
        'external_alert',
        group.alerts.map((alert) => normaliseAlertmanagerAlert(alert, group, context())),
      ),
    calicoFlows: (records) =>
      publish(
        TOPICS.flows,
        'flow',
        records.map((r) => normaliseCalicoFlow(r, context())),
      ),
  }
}
