import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startArgus, type ArgusProcess } from '../helpers/argus-process.js'
import { until } from '../helpers/until.js'

// Logs into a running Argus: every stored record carries its template id, and a workload that
// starts logging something it never did before raises a new_template anomaly.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-log-patterns-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

const record = (log: string) => ({
  log,
  kubernetes: {
    namespace_name: 'shop',
    pod_name: 'cart-6d4cf56db6-x7k2p',
    container_name: 'cart',
    labels: { app: 'cart', 'pod-template-hash': '6d4cf56db6' },
  },
})

describe('log patterns in the pipeline', () => {
  it('stores template ids with the records and reports a new template after warm-up', async () => {
    argus = await startArgus({
      dataDir,
      env: { ARGUS_SIM: 'off', ARGUS_WRITER_MAX_WAIT_MS: '100', ARGUS_ANALYZER_LOG_WARMUP_RECORDS: '50' },
    })
    const post = (records: object[]) =>
      fetch(`${argus?.url}/ingest/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records),
      })
    expect(
      (await post(Array.from({ length: 100 }, (_, i) => record(`GET /cart/${i} took ${i % 30} ms`)))).status,
    ).toBe(202)
    expect((await post([record('ERROR payment gateway refused the card of order 8812')])).status).toBe(202)

    type Logs = { logs: Array<{ message: string; templateId: string }> }
    const logs = await until(async () => {
      const response = await fetch(`${argus?.url}/api/v1/logs?namespace=shop&limit=200&from=-1h`)
      const body = (await response.json()) as Logs
      return body.logs.length === 101 ? body.logs : undefined
    }, 'the 101 stored records')
    const requests = logs.filter((l) => l.message.startsWith('GET /cart/'))
    expect(new Set(requests.map((l) => l.templateId)).size).toBe(1)
    expect(requests[0]?.templateId).toMatch(/^[0-9a-f]{16}$/)

    type Found = {
      anomalies: Array<{ kind: string; severity: string; entity: { name: string }; summary: string }>
    }
    const anomalies = await until(async () => {
      const response = await fetch(
        `${argus?.url}/api/v1/anomalies?kind=new_template&from=-1h&to=${Date.now() + 60_000}`,
      )
      const found = ((await response.json()) as Found).anomalies
      return found.length > 0 ? found : undefined
    }, 'a new_template anomaly')
    expect(anomalies).toHaveLength(1)
    expect(anomalies[0]).toMatchObject({ severity: 'warning', entity: { name: 'cart' } })
    expect(anomalies[0]?.summary).toContain('payment gateway refused')
  })
})
