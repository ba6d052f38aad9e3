import {
  TOPICS,
  type Action,
  type Alert,
  type Anomaly,
  type Envelope,
  type Incident,
  type KubeEvent,
  type LogRecord,
  type MetricSample,
  type NetworkFlow,
  type ResourceChange,
  type RootCause,
} from '../core/index.js'
import { TABLES, type TableName } from './tables.js'

type Row = Record<string, unknown>

function envelopeColumns(e: Envelope): Row {
  return {
    ts: e.ts,
    cluster: e.cluster,
    namespace: e.namespace ?? '',
    workload_kind: e.workload?.kind ?? '',
    workload_name: e.workload?.name ?? '',
    pod: e.pod ?? '',
    container: e.container ?? '',
    node: e.node ?? '',
    service: e.service ?? '',
    attributes: e.attributes ?? {},
  }
}

const logRow = (r: LogRecord): Row => ({
  ...envelopeColumns(r),
  level: r.level,
  stream: r.stream ?? '',
  source: r.source,
  template_id: r.templateId ?? '',
  message: r.message,
})

const metricRow = (r: MetricSample): Row => ({
  ...envelopeColumns(r),
  name: r.name,
  type: r.type ?? 'unknown',
  value: r.value,
  labels: r.labels,
})

const kubeEventRow = (r: KubeEvent): Row => ({
  ...envelopeColumns(r),
  uid: r.uid,
  type: r.type,
  reason: r.reason,
  message: r.message,
  involved_kind: r.involvedObject.kind,
  involved_name: r.involvedObject.name,
  involved_namespace: r.involvedObject.namespace ?? '',
  involved_uid: r.involvedObject.uid ?? '',
  reporting_component: r.reportingComponent ?? '',
  count: r.count,
  first_ts: r.firstTs ?? r.ts,
})

const changeRow = (r: ResourceChange): Row => ({
  ...envelopeColumns(r),
  change_kind: r.changeKind,
  resource_kind: r.resource.kind,
  resource_name: r.resource.name,
  resource_uid: r.resource.uid ?? '',
  revision: r.revision ?? '',
  from_replicas: r.fromReplicas ?? null,
  to_replicas: r.toReplicas ?? null,
  images: (r.images ?? []).map((i) => [i.container, i.from ?? '', i.to ?? '']),
  diff: (r.diff ?? []).map((d) => [d.path, d.from ?? '', d.to ?? '']),
  actor: r.actor ?? '',
})

const flowRow = (r: NetworkFlow): Row => ({
  ...envelopeColumns(r),
  start_ts: r.startTs,
  src_namespace: r.source.namespace,
  src_name: r.source.name,
  src_aggregated: r.source.aggregatedName,
  src_type: r.source.type,
  src_labels: r.source.labels,
  src_ip: r.source.ip ?? '',
  dst_namespace: r.destination.namespace,
  dst_name: r.destination.name,
  dst_aggregated: r.destination.aggregatedName,
  dst_type: r.destination.type,
  dst_labels: r.destination.labels,
  dst_ip: r.destination.ip ?? '',
  dst_port: r.destination.port ?? 0,
  dst_service_name: r.destServiceName ?? '',
  dst_service_namespace: r.destServiceNamespace ?? '',
  protocol: r.protocol,
  action: r.action,
  reporter: r.reporter,
  bytes_in: r.bytesIn,
  bytes_out: r.bytesOut,
  packets_in: r.packetsIn,
  packets_out: r.packetsOut,
  flow_count: r.flowCount,
  policies: r.policies,
})

const anomalyRow = (r: Anomaly): Row => ({
  ...envelopeColumns(r),
  id: r.id,
  entity_kind: r.entity.kind,
  entity_name: r.entity.name,
  entity_namespace: r.entity.namespace ?? '',
  signal: r.signal,
  kind: r.kind,
  score: r.score,
  severity: r.severity,
  summary: r.summary,
  evidence: JSON.stringify(r.evidence),
})

const incidentRow = (r: Incident): Row => ({
  ...envelopeColumns(r),
  id: r.id,
  version: r.version,
  status: r.status,
  severity: r.severity,
  title: r.title,
  opened_at: r.openedAt,
  resolved_at: r.resolvedAt ?? null,
  anomaly_ids: r.anomalyIds,
  entities: JSON.stringify(r.entities),
})

const rootCauseRow = (r: RootCause): Row => ({
  ...envelopeColumns(r),
  incident_id: r.incidentId,
  rank: r.rank,
  entity_kind: r.entity.kind,
  entity_name: r.entity.name,
  entity_namespace: r.entity.namespace ?? '',
  score: r.score,
  explanation: r.explanation,
  evidence: JSON.stringify(r.evidence),
})

const alertRow = (r: Alert): Row => ({
  ...envelopeColumns(r),
  fingerprint: r.fingerprint,
  status: r.status,
  labels: r.labels,
  annotations: r.annotations,
  starts_at: r.startsAt,
  ends_at: r.endsAt ?? null,
  incident_id: r.incidentId ?? '',
})

const actionRow = (r: Action): Row => ({
  ...envelopeColumns(r),
  id: r.id,
  incident_id: r.incidentId ?? '',
  policy: r.policy ?? '',
  kind: r.kind,
  target_kind: r.target.kind,
  target_name: r.target.name,
  target_namespace: r.target.namespace ?? '',
  params: r.params,
  status: r.status,
  reason: r.reason,
  actor: r.actor ?? '',
})

interface TopicTable {
  table: TableName
  toRow: (value: never) => Row
}

/** Where each persisted topic lands and how its messages become rows. */
export const TOPIC_TABLES: Readonly<Record<string, TopicTable>> = {
  [TOPICS.logs]: { table: TABLES.logs, toRow: logRow },
  [TOPICS.metrics]: { table: TABLES.metrics, toRow: metricRow },
  [TOPICS.kubeEvents]: { table: TABLES.kubeEvents, toRow: kubeEventRow },
  [TOPICS.resourceChanges]: { table: TABLES.resourceChanges, toRow: changeRow },
  [TOPICS.flows]: { table: TABLES.flows, toRow: flowRow },
  [TOPICS.anomalies]: { table: TABLES.anomalies, toRow: anomalyRow },
  [TOPICS.incidents]: { table: TABLES.incidents, toRow: incidentRow },
  [TOPICS.rootCauses]: { table: TABLES.rootCauses, toRow: rootCauseRow },
  [TOPICS.alerts]: { table: TABLES.alerts, toRow: alertRow },
  [TOPICS.actions]: { table: TABLES.actions, toRow: actionRow },
}

export const PERSISTED_TOPICS: readonly string[] = Object.keys(TOPIC_TABLES)
