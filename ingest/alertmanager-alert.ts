import type { ExternalAlert, WorkloadRef } from '../core/index.js'
import { isJsonObject, stringAt, stringMap, type Normalised } from './json-object.js'
import { parseTimestamp } from './fluent-record.js'
import { inferWorkloadFromPodName } from './pod-workload.js'

/** kube-state-metrics and kubernetes-mixin label names for the workload an alert is about. */
const WORKLOAD_LABELS: Array<[string, string]> = [
  ['deployment', 'Deployment'],
  ['statefulset', 'StatefulSet'],
  ['daemonset', 'DaemonSet'],
  ['job_name', 'Job'],
  ['cronjob', 'CronJob'],
]

/** Alertmanager writes this for "no end yet". */
const ZERO_TIME = '0001-01-01T00:00:00Z'

export interface AlertmanagerGroup {
  receiver: string
  groupKey?: string | undefined
  alerts: unknown[]
}

/**
 * Reads the envelope of an Alertmanager webhook (version 4): receiver, groupKey and its alerts.
 * Throws nothing; answers a reason when the body is not such a payload.
 */
export function readAlertmanagerGroup(body: unknown): Normalised<AlertmanagerGroup> {
  if (!isJsonObject(body)) return { ok: false, reason: 'payload must be a JSON object' }
  if (body.version !== '4')
    return { ok: false, reason: `payload version must be "4", got ${JSON.stringify(body.version)}` }
  if (!Array.isArray(body.alerts)) return { ok: false, reason: 'alerts must be an array' }
  const receiver = stringAt(body, 'receiver')
  if (!receiver) return { ok: false, reason: 'receiver is missing' }
  return { ok: true, record: { receiver, groupKey: stringAt(body, 'groupKey'), alerts: body.alerts } }
}

/**
 * Maps one alert of an Alertmanager webhook to an ExternalAlert, placing it in the cluster from its
 * labels (namespace, pod, container, node, service, and the workload labels kube-state-metrics uses).
 */
export function normaliseAlertmanagerAlert(
  raw: unknown,
  group: AlertmanagerGroup,
  context: { cluster: string; now: number },
): Normalised<ExternalAlert> {
  if (!isJsonObject(raw)) return { ok: false, reason: 'alert must be a JSON object' }
  const status = stringAt(raw, 'status')
  if (status !== 'firing' && status !== 'resolved')
    return { ok: false, reason: 'status must be firing or resolved' }
  if (!isJsonObject(raw.labels)) return { ok: false, reason: 'labels must be an object' }
  const labels = stringMap(raw.labels)
  const annotations = stringMap(raw.annotations)
  const startsAt = parseTimestamp(raw.startsAt)
  if (startsAt === undefined) return { ok: false, reason: 'startsAt must be a timestamp' }
  const endsAtText = stringAt(raw, 'endsAt')
  const endsAt = endsAtText && endsAtText !== ZERO_TIME ? parseTimestamp(endsAtText) : undefined
  const fingerprint = stringAt(raw, 'fingerprint') ?? JSON.stringify(Object.entries(labels).sort())
  const alert: ExternalAlert = {
    ts: status === 'resolved' ? (endsAt ?? context.now) : startsAt,
    cluster: labels.cluster ?? context.cluster,
    source: 'alertmanager',
    receiver: group.receiver,
    status,
    fingerprint,
    alertname: labels.alertname ?? '',
    severity: labels.severity ?? '',
    labels,
    annotations,
    startsAt,
  }
  if (endsAt !== undefined) alert.endsAt = endsAt
  const generatorURL = stringAt(raw, 'generatorURL')
  if (generatorURL) alert.generatorURL = generatorURL
  if (group.groupKey) alert.groupKey = group.groupKey
  if (labels.namespace) alert.namespace = labels.namespace
  if (labels.pod) alert.pod = labels.pod
  if (labels.container) alert.container = labels.container
  if (labels.node) alert.node = labels.node
  const service = labels.service ?? labels.app ?? labels['app_kubernetes_io_name']
  if (service) alert.service = service
  let workload: WorkloadRef | undefined
  for (const [label, kind] of WORKLOAD_LABELS) {
    const name = labels[label]
    if (name) {
      workload = { kind, name }
      break
    }
  }
  workload ??= labels.pod ? inferWorkloadFromPodName(labels.pod) : undefined
  if (workload) alert.workload = workload
  return { ok: true, record: alert }
}
