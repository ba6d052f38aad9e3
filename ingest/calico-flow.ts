import type { NetworkFlow } from '../core/index.js'
import { isJsonObject, numberAt, stringAt, type JsonObject, type Normalised } from './json-object.js'
import { parseTimestamp } from './fluent-record.js'

/** Calico writes labels as `{"labels": ["k=v", ...]}`; some pipelines flatten them to a map. */
function calicoLabels(value: unknown): Record<string, string> {
  const list =
    isJsonObject(value) && Array.isArray(value.labels)
      ? value.labels
      : Array.isArray(value)
        ? value
        : undefined
  if (list) {
    const out: Record<string, string> = {}
    for (const entry of list) {
      if (typeof entry !== 'string') continue
      const at = entry.indexOf('=')
      if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1)
    }
    return out
  }
  if (isJsonObject(value)) {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v
    return out
  }
  return {}
}

function policies(value: unknown): string[] {
  const list = isJsonObject(value) ? (value.all_policies ?? value.enforced_policies) : value
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : []
}

const PROTOCOLS: Record<string, string> = {
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'icmp6',
  '132': 'sctp',
}

/** `-` is Calico's "not applicable"; absent and `-` both mean unknown. */
const field = (record: JsonObject, key: string): string | undefined => {
  const value = stringAt(record, key)
  return value === '-' ? undefined : value
}

function endpoint(record: JsonObject, side: 'source' | 'dest'): NetworkFlow['source'] {
  const result: NetworkFlow['source'] = {
    namespace: field(record, `${side}_namespace`) ?? '',
    name: stringAt(record, `${side}_name`) ?? '-',
    aggregatedName: stringAt(record, `${side}_name_aggr`) ?? stringAt(record, `${side}_name`) ?? '-',
    type: stringAt(record, `${side}_type`) ?? 'net',
    labels: calicoLabels(record[`${side}_labels`]),
  }
  const ip = field(record, `${side}_ip`)
  if (ip) result.ip = ip
  const port = numberAt(record, `${side}_port`)
  if (port !== undefined) result.port = Math.trunc(port)
  return result
}

/**
 * Maps one Calico flow log record (the JSON Calico's flow logs carry: start/end time, source and
 * destination name, aggregated name, namespace, labels, port, protocol, action, reporter, bytes,
 * packets, flow counts, policies) to a NetworkFlow.
 */
export function normaliseCalicoFlow(
  raw: unknown,
  context: { cluster: string; now: number },
): Normalised<NetworkFlow> {
  if (!isJsonObject(raw)) return { ok: false, reason: 'flow record must be a JSON object' }
  const start = parseTimestamp(raw.start_time)
  const end = parseTimestamp(raw.end_time)
  if (start === undefined || end === undefined)
    return { ok: false, reason: 'start_time and end_time must be timestamps' }
  const action = stringAt(raw, 'action')
  if (action !== 'allow' && action !== 'deny') return { ok: false, reason: 'action must be allow or deny' }
  const reporter = stringAt(raw, 'reporter')
  if (reporter !== 'src' && reporter !== 'dst') return { ok: false, reason: 'reporter must be src or dst' }
  const protocolRaw = raw.proto ?? raw.protocol
  const protocolText =
    typeof protocolRaw === 'number' || typeof protocolRaw === 'string' ? String(protocolRaw) : ''
  const count = (key: string): number => Math.max(0, Math.trunc(numberAt(raw, key) ?? 0))
  const flow: NetworkFlow = {
    ts: end,
    cluster: context.cluster,
    startTs: start,
    endTs: end,
    source: endpoint(raw, 'source'),
    destination: endpoint(raw, 'dest'),
    protocol: PROTOCOLS[protocolText] ?? protocolText.toLowerCase(),
    action,
    reporter,
    bytesIn: count('bytes_in'),
    bytesOut: count('bytes_out'),
    packetsIn: count('packets_in'),
    packetsOut: count('packets_out'),
    flowCount: count('num_flows'),
    policies: policies(raw.policies),
  }
  const serviceName = field(raw, 'dest_service_name')
  const serviceNamespace = field(raw, 'dest_service_namespace')
  if (serviceName) flow.destServiceName = serviceName
  if (serviceNamespace) flow.destServiceNamespace = serviceNamespace
  // The reporting side's endpoint is where the flow was seen: key it there.
  const local = reporter === 'src' ? flow.source : flow.destination
  if (local.namespace) flow.namespace = local.namespace
  const host = stringAt(raw, 'host')
  if (host) flow.node = host
  return { ok: true, record: flow }
}
