import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sleep } from '../../core/index.js'
import { calicoHttpSource } from '../../ingest/index.js'
import { startArgus, type ArgusProcess } from '../helpers/argus-process.js'
import { intakeHarness } from '../helpers/intake-harness.js'
import { seededRandom } from '../helpers/seeded-random.js'

// Calico flow logs over HTTP and from a tailed (and rotated) flows.log into ClickHouse, read back
// as the service dependency graph; and the flow parser against 10,000 broken bodies.
const dir = mkdtempSync(join(tmpdir(), 'argus-flows-'))
const flowLog = join(dir, 'flows.log')
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

/** A flow log record as Calico writes it (aggregated per ReplicaSet, reported by the destination). */
function flow(from: string, to: string, action: 'allow' | 'deny', flows: number, at = Date.now()): object {
  const seconds = Math.floor(at / 1000)
  return {
    start_time: seconds - 10,
    end_time: seconds,
    source_ip: '-',
    source_name: '-',
    source_name_aggr: `${from}-6d4cf56db6-*`,
    source_namespace: 'shop',
    source_port: null,
    source_type: 'wep',
    source_labels: { labels: [`app=${from}`] },
    dest_ip: '-',
    dest_name: '-',
    dest_name_aggr: `${to}-7b9c4d8f5-*`,
    dest_namespace: 'shop',
    dest_port: 8080,
    dest_type: 'wep',
    dest_labels: { labels: [`app=${to}`] },
    dest_service_namespace: 'shop',
    dest_service_name: to,
    dest_service_port: 'http',
    proto: 'tcp',
    action,
    reporter: 'dst',
    policies: { all_policies: [`0|default|shop/${action}-${to}|${action}|0`] },
    bytes_in: 1000 * flows,
    bytes_out: 2000 * flows,
    num_flows: flows,
    num_flows_started: flows,
    num_flows_completed: flows,
    packets_in: 10 * flows,
    packets_out: 12 * flows,
  }
}

interface Graph {
  nodes: Array<{ namespace: string; name: string }>
  edges: Array<{
    source: { name: string }
    destination: { name: string; service: string; port: number }
    flows: number
    deniedFlows: number
    perMinute: Array<{ flows: number }>
  }>
}

const edge = (graph: Graph, from: string, to: string) =>
  graph.edges.find((e) => e.source.name.startsWith(`${from}-`) && e.destination.name.startsWith(`${to}-`))

describe('Calico flow logs', () => {
  it('stores flows posted over HTTP and tailed from a rotating file, and serves them as a dependency graph', async () => {
    writeFileSync(flowLog, `${JSON.stringify(flow('checkout', 'payment', 'allow', 4))}\n`)
    argus = await startArgus({
      dataDir: join(dir, 'data'),
      env: { ARGUS_SIM: 'off', ARGUS_WRITER_MAX_WAIT_MS: '100', ARGUS_CALICO_FLOW_LOG_FILES: flowLog },
    })
    const posted = await fetch(`${argus.url}/ingest/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: [
        flow('frontend', 'cart', 'allow', 5),
        flow('frontend', 'cart', 'allow', 7),
        flow('frontend', 'admin', 'deny', 3),
      ]
        .map((f) => JSON.stringify(f))
        .join('\n'),
    })
    expect(posted.status).toBe(202)
    expect(await posted.json()).toEqual({ accepted: 3 })
    // The file grows, with a partial line first; then it is rotated and a new one starts.
    appendFileSync(flowLog, `${JSON.stringify(flow('checkout', 'payment', 'allow', 6))}\n{"start_time":`)
    await sleep(1500)
    renameSync(flowLog, `${flowLog}.1`)
    writeFileSync(flowLog, `${JSON.stringify(flow('checkout', 'shipping', 'allow', 2))}\n`)

    const url = `${argus.url}/api/v1/topology/flows?from=-1h&to=${Date.now() + 3_600_000}`
    let graph: Graph = { nodes: [], edges: [] }
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      graph = (await (await fetch(url)).json()) as Graph
      if (edge(graph, 'checkout', 'shipping') && edge(graph, 'checkout', 'payment')?.flows === 10) break
      await sleep(300)
    }
    expect(edge(graph, 'frontend', 'cart')).toMatchObject({
      flows: 12,
      deniedFlows: 0,
      destination: { service: 'cart', port: 8080 },
    })
    expect(edge(graph, 'frontend', 'admin')).toMatchObject({ flows: 3, deniedFlows: 3 })
    expect(edge(graph, 'checkout', 'payment')?.flows).toBe(10)
    expect(edge(graph, 'checkout', 'shipping')?.flows).toBe(2)
    expect(edge(graph, 'frontend', 'cart')?.perMinute.reduce((n, m) => n + m.flows, 0)).toBe(12)
    expect(graph.nodes.map((n) => n.name)).toContain('frontend-6d4cf56db6-*')
  })

  it('reports each rejected record, counts bodies that are not JSON, and survives 10,000 broken bodies', async () => {
    const harness = intakeHarness()
    const app = await harness.server([
      calicoHttpSource({ intake: harness.intake, metrics: harness.metrics, bodyLimitBytes: 1 << 20 }),
    ])
    const post = (payload: string | Buffer, encoding?: string) =>
      app.inject({
        method: 'POST',
        url: '/ingest/flows',
        payload,
        headers: { 'content-type': 'application/json', ...(encoding && { 'content-encoding': encoding }) },
      })
    const mixed = await post(
      JSON.stringify([flow('a', 'b', 'allow', 1), { ...flow('a', 'b', 'allow', 1), action: 'maybe' }]),
    )
    expect(mixed.statusCode).toBe(400)
    expect(mixed.json()).toMatchObject({
      accepted: 1,
      rejected: [{ index: 1, reason: 'action must be allow or deny' }],
    })

    const { next: random, bytes } = seededRandom(3)
    const good = JSON.stringify(flow('x', 'y', 'allow', 1))
    const shapes: Array<() => string | Buffer> = [
      () => bytes(1 + Math.floor(random() * 80)),
      () => good.slice(0, Math.floor(random() * good.length)),
      () => '{"start_time": "yesterday", "end_time": 1, "action": "allow", "reporter": "dst"}',
      () => JSON.stringify({ ...flow('x', 'y', 'allow', 1), reporter: 'both' }),
      () => '[1, 2, "three"]',
      () => 'null',
    ]
    for (let i = 0; i < 10_000; i++) {
      const response = await post((shapes[i % shapes.length] as () => string | Buffer)())
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ error: { code: 'ARGUS_ERR_BAD_INPUT' } })
    }
    expect((await post(good)).statusCode).toBe(202)
    expect(
      await harness.metricTotal(/^argus_ingest_signals_total\{kind="flow",outcome="rejected"\}/),
    ).toBeGreaterThan(1000)
    expect(await harness.metricTotal(/^argus_flow_requests_rejected_total /)).toBeGreaterThan(100)
    await harness.stop()
  }, 120_000)
})
