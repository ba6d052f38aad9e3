/** Builders for telemetry in the formats real sources deliver: kubelet's cAdvisor text, fluentd records, Calico flow logs. */

export interface PodSeries {
  namespace: string
  pod: string
  container: string
  image: string
  service: string
  cpuSecondsTotal: number
  memoryWorkingSetBytes: number
  memoryLimitBytes: number
  rxBytesTotal: number
  txBytesTotal: number
  throttledPeriodsTotal: number
  restarts: number
  requestsOk: number
  requestsError: number
  /** Cumulative counts per upper bound of LATENCY_BUCKETS, then the +Inf count. */
  latencyBuckets: number[]
  latencySumSeconds: number
}

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

const escape = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const labelText = (labels: Record<string, string>): string =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',')}}`

/**
 * One node's scrape: kubelet `/metrics/cadvisor` container series (named as cAdvisor names them)
 * plus each pod's own HTTP histogram, as a service would expose it.
 */
export function nodeScrapeText(pods: readonly PodSeries[], ts: number): string {
  const lines: string[] = []
  const family = (
    name: string,
    type: string,
    help: string,
    rows: Array<[Record<string, string>, number]>,
  ): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of rows) lines.push(`${name}${labelText(labels)} ${value} ${ts}`)
  }
  const container = (p: PodSeries): Record<string, string> => ({
    container: p.container,
    image: p.image,
    namespace: p.namespace,
    pod: p.pod,
  })
  const podLevel = (p: PodSeries): Record<string, string> => ({
    interface: 'eth0',
    namespace: p.namespace,
    pod: p.pod,
  })
  family(
    'container_cpu_usage_seconds_total',
    'counter',
    'Cumulative cpu time consumed in seconds.',
    pods.map((p) => [container(p), round(p.cpuSecondsTotal)]),
  )
  family(
    'container_memory_working_set_bytes',
    'gauge',
    'Current working set in bytes.',
    pods.map((p) => [container(p), Math.round(p.memoryWorkingSetBytes)]),
  )
  family(
    'container_spec_memory_limit_bytes',
    'gauge',
    'Memory limit for the container.',
    pods.map((p) => [container(p), p.memoryLimitBytes]),
  )
  family(
    'container_cpu_cfs_throttled_periods_total',
    'counter',
    'Number of throttled period intervals.',
    pods.map((p) => [container(p), p.throttledPeriodsTotal]),
  )
  family(
    'container_network_receive_bytes_total',
    'counter',
    'Cumulative count of bytes received',
    pods.map((p) => [podLevel(p), Math.round(p.rxBytesTotal)]),
  )
  family(
    'container_network_transmit_bytes_total',
    'counter',
    'Cumulative count of bytes transmitted',
    pods.map((p) => [podLevel(p), Math.round(p.txBytesTotal)]),
  )
  family(
    'kube_pod_container_status_restarts_total',
    'counter',
    'The number of container restarts per container.',
    pods.map((p) => [{ container: p.container, namespace: p.namespace, pod: p.pod }, p.restarts]),
  )
  const app = (p: PodSeries, extra: Record<string, string> = {}): Record<string, string> => ({
    namespace: p.namespace,
    pod: p.pod,
    service: p.service,
    ...extra,
  })
  family(
    'http_requests_total',
    'counter',
    'Requests served, by status code.',
    pods.flatMap((p) => [
      [app(p, { code: '200' }), Math.round(p.requestsOk)],
      [app(p, { code: '500' }), Math.round(p.requestsError)],
    ]),
  )
  lines.push(
    '# HELP http_request_duration_seconds Request latency.',
    '# TYPE http_request_duration_seconds histogram',
  )
  for (const p of pods) {
    LATENCY_BUCKETS.forEach((le, i) =>
      lines.push(
        `http_request_duration_seconds_bucket${labelText(app(p, { le: String(le) }))} ${Math.round(p.latencyBuckets[i] ?? 0)} ${ts}`,
      ),
    )
    const count = Math.round(p.latencyBuckets[LATENCY_BUCKETS.length] ?? 0)
    lines.push(`http_request_duration_seconds_bucket${labelText(app(p, { le: '+Inf' }))} ${count} ${ts}`)
    lines.push(`http_request_duration_seconds_sum${labelText(app(p))} ${round(p.latencySumSeconds)} ${ts}`)
    lines.push(`http_request_duration_seconds_count${labelText(app(p))} ${count} ${ts}`)
  }
  return `${lines.join('\n')}\n`
}

const round = (value: number): number => Math.round(value * 1000) / 1000

export interface PodIdentity {
  namespace: string
  pod: string
  podUid: string
  container: string
  image: string
  node: string
  labels: Record<string, string>
}

/** A log line as fluentd's kubernetes_metadata filter delivers it (CRI `time`, `stream`, `kubernetes`). */
export function fluentRecord(
  pod: PodIdentity,
  ts: number,
  line: string,
  stream: 'stdout' | 'stderr',
): Record<string, unknown> {
  return {
    log: `${line}\n`,
    stream,
    time: new Date(ts).toISOString(),
    kubernetes: {
      namespace_name: pod.namespace,
      pod_name: pod.pod,
      pod_id: pod.podUid,
      container_name: pod.container,
      container_image: pod.image,
      host: pod.node,
      labels: pod.labels,
    },
  }
}

export interface FlowSpec {
  startTs: number
  endTs: number
  namespace: string
  source: { aggregated: string; app: string }
  dest: { aggregated: string; app: string; service: string; port: number }
  action: 'allow' | 'deny'
  policy: string
  bytesOut: number
  bytesIn: number
  flows: number
  host: string
}

/** A Calico flow log record (aggregated per workload prefix, reported at the source). */
export function calicoFlowRecord(spec: FlowSpec): Record<string, unknown> {
  const packets = (bytes: number): number => Math.max(spec.flows, Math.round(bytes / 1200))
  return {
    start_time: Math.floor(spec.startTs / 1000),
    end_time: Math.floor(spec.endTs / 1000),
    source_ip: null,
    source_name: '-',
    source_name_aggr: spec.source.aggregated,
    source_namespace: spec.namespace,
    source_port: null,
    source_type: 'wep',
    source_labels: { labels: [`app=${spec.source.app}`] },
    dest_ip: null,
    dest_name: '-',
    dest_name_aggr: spec.dest.aggregated,
    dest_namespace: spec.namespace,
    dest_port: spec.dest.port,
    dest_type: 'wep',
    dest_labels: { labels: [`app=${spec.dest.app}`] },
    dest_service_name: spec.dest.service,
    dest_service_namespace: spec.namespace,
    dest_service_port: 'http',
    proto: 'tcp',
    action: spec.action,
    reporter: 'src',
    policies: { all_policies: [spec.policy] },
    bytes_in: spec.action === 'allow' ? Math.round(spec.bytesIn) : 0,
    bytes_out: Math.round(spec.bytesOut),
    num_flows: spec.flows,
    num_flows_started: spec.flows,
    num_flows_completed: spec.action === 'allow' ? spec.flows : 0,
    packets_in: spec.action === 'allow' ? packets(spec.bytesIn) : 0,
    packets_out: packets(spec.bytesOut),
    host: spec.host,
  }
}
