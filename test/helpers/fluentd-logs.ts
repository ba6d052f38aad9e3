export interface TestLogLine {
  message: string
  time: number
  namespace: string
  pod: string
}

/** `count` records as fluentd's out_http sends them: NDJSON with the kubernetes metadata filter's fields. */
export function fluentdBody(count: number, line: (i: number) => TestLogLine): string {
  return Array.from({ length: count }, (_, i) => {
    const { message, time, namespace, pod } = line(i)
    return JSON.stringify({
      log: message,
      time: new Date(time).toISOString(),
      kubernetes: { namespace_name: namespace, pod_name: pod },
    })
  }).join('\n')
}

/** Posts an NDJSON body to a running Argus's log intake. */
export function postLogs(url: string, body: string): Promise<Response> {
  return fetch(`${url}/ingest/logs`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  })
}
