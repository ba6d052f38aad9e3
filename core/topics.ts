import type { TSchema } from 'typebox'
import {
  ExternalAlert,
  KubeEvent,
  LogRecord,
  MetricBatch,
  MetricSample,
  NetworkFlow,
  ObjectState,
  ResourceChange,
} from './schemas/signals.js'
import {
  Action,
  Alert,
  AlertDelivery,
  Anomaly,
  Incident,
  RemediationCommand,
  RootCause,
  Silence,
  WorkloadForecast,
} from './schemas/findings.js'

/** Topic names. Raw signals first, then findings; `deadLetter` holds messages whose handlers kept failing. */
export const TOPICS = {
  kubeEvents: 'argus.signals.kube-events',
  resourceChanges: 'argus.signals.resource-changes',
  objectStates: 'argus.signals.object-states',
  externalAlerts: 'argus.signals.external-alerts',
  logs: 'argus.signals.logs',
  metrics: 'argus.signals.metrics',
  /** Metric points in column batches (see MetricBatch): remote_write's samples. */
  metricBatches: 'argus.signals.metric-batches',
  flows: 'argus.signals.flows',
  anomalies: 'argus.findings.anomalies',
  incidents: 'argus.findings.incidents',
  rootCauses: 'argus.findings.root-causes',
  /** Rises a workload's model forecasts, for predictive autoscaling (not stored). */
  forecasts: 'argus.findings.forecasts',
  alerts: 'argus.alerts',
  alertDeliveries: 'argus.alert-deliveries',
  /** Silences created or expired through the API, for every alerter to apply at once. */
  silences: 'argus.silences',
  actions: 'argus.actions',
  /** Approvals, rejections and the kill switch, from the API to every remediator. */
  remediationCommands: 'argus.remediation-commands',
  deadLetter: 'argus.dead-letter',
} as const

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]

/** The payload schema of each topic (the dead-letter topic carries the failed message as it was). */
export const TOPIC_SCHEMAS: Record<Exclude<TopicName, typeof TOPICS.deadLetter>, TSchema> = {
  [TOPICS.kubeEvents]: KubeEvent,
  [TOPICS.resourceChanges]: ResourceChange,
  [TOPICS.objectStates]: ObjectState,
  [TOPICS.externalAlerts]: ExternalAlert,
  [TOPICS.logs]: LogRecord,
  [TOPICS.metrics]: MetricSample,
  [TOPICS.metricBatches]: MetricBatch,
  [TOPICS.flows]: NetworkFlow,
  [TOPICS.anomalies]: Anomaly,
  [TOPICS.incidents]: Incident,
  [TOPICS.rootCauses]: RootCause,
  [TOPICS.forecasts]: WorkloadForecast,
  [TOPICS.alerts]: Alert,
  [TOPICS.alertDeliveries]: AlertDelivery,
  [TOPICS.silences]: Silence,
  [TOPICS.actions]: Action,
  [TOPICS.remediationCommands]: RemediationCommand,
}

/** Headers on dead-lettered messages: why and where from. Shared by the bus (writes) and storage (reads). */
export const DEAD_LETTER_HEADERS = {
  errorCode: 'argus-error-code',
  errorMessage: 'argus-error-message',
  originalTopic: 'argus-original-topic',
  originalPartition: 'argus-original-partition',
  originalOffset: 'argus-original-offset',
  group: 'argus-consumer-group',
  attempts: 'argus-attempts',
} as const

/** Raw signal topics: what the storage writer persists as they arrive. */
export const SIGNAL_TOPICS = [
  TOPICS.kubeEvents,
  TOPICS.resourceChanges,
  TOPICS.objectStates,
  TOPICS.externalAlerts,
  TOPICS.logs,
  TOPICS.metrics,
  TOPICS.metricBatches,
  TOPICS.flows,
] as const

/** The envelope fields a partition key is made of. */
export interface KeyedEnvelope {
  cluster: string
  namespace?: string | undefined
  workload?: { kind: string; name: string } | undefined
  pod?: string | undefined
  node?: string | undefined
}

/**
 * Partition key: cluster/namespace/workload, so one workload's data stays in order on one partition
 * and reaches one analyzer instance. Falls back to the pod, then the node, when the workload is unknown.
 */
export function partitionKey(envelope: KeyedEnvelope): string {
  const entity = envelope.workload
    ? `${envelope.workload.kind}/${envelope.workload.name}`
    : (envelope.pod ?? envelope.node ?? '')
  return `${envelope.cluster}/${envelope.namespace ?? ''}/${entity}`
}

/**
 * Whether two envelopes have the same partition key, without building either (records of one pod
 * arrive together: a shipper's chunk holds one container's lines). False when unsure, never true
 * for two different keys.
 */
export function samePartitionKey(a: KeyedEnvelope, b: KeyedEnvelope): boolean {
  if (a.cluster !== b.cluster || a.namespace !== b.namespace) return false
  if (a.workload !== undefined || b.workload !== undefined)
    return a.workload?.kind === b.workload?.kind && a.workload?.name === b.workload?.name
  return a.pod === b.pod && a.node === b.node
}
