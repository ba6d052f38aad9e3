import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Incident, RootCause } from '../../core/index.js'
import {
  FAST_FIRST_FAULT,
  simulatedClusterEnv,
  startArgus,
  type ArgusProcess,
} from '../helpers/argus-process.js'
import { until } from '../helpers/until.js'

// The running service on its simulated cluster: the first demo fault (a CPU hog in one
// recommendation pod) becomes an incident whose root cause is served by the API.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-incidents-'))
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

describe('incidents and analysis API', () => {
  it('lists the incident a fault opened and serves its ranked root cause with evidence', async () => {
    argus = await startArgus({
      dataDir,
      env: simulatedClusterEnv(dataDir, { ...FAST_FIRST_FAULT, ARGUS_WRITER_MAX_WAIT_MS: '100' }),
    })
    const api = argus.url
    const incident = await until(
      async () => {
        const response = await fetch(`${api}/api/v1/incidents?from=-1d`)
        const body = (await response.json()) as { incidents: Incident[] }
        return body.incidents.find((i) => i.title.startsWith('Pod/recommendation'))
      },
      'an incident whose top root cause is a recommendation pod',
      90_000,
      500,
    )
    expect(incident).toMatchObject({ status: 'open', cluster: 'default' })
    expect(incident.anomalyIds.length).toBeGreaterThan(0)

    const detail = (await (await fetch(`${api}/api/v1/incidents/${incident.id}`)).json()) as {
      incident: Incident
      rootCauses: RootCause[]
    }
    expect(detail.incident.id).toBe(incident.id)
    const [top] = detail.rootCauses
    expect(top?.rank).toBe(1)
    expect(top?.entity.name).toMatch(/^recommendation/)
    expect(top?.evidence.length).toBeGreaterThan(0)
    expect(detail.rootCauses.map((r) => r.rank)).toEqual(detail.rootCauses.map((_, i) => i + 1))

    // The same question asked ad hoc, from the caller that felt it: stored anomalies, flows and changes.
    const post = (body: object) =>
      fetch(`${api}/api/v1/analysis`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    // The range is the incident's: a wider one would mix in other episodes, as any analysis would.
    const range = { from: String(incident.openedAt - 1000), to: String(incident.openedAt + 8000) }
    const analysis = (await (await post({ service: 'frontend', namespace: 'shop', ...range })).json()) as {
      anomalies: number
      rootCauses: Array<{ rank: number; entity: { name: string }; explanation: string }>
    }
    expect(analysis.anomalies).toBeGreaterThan(0)
    expect(analysis.rootCauses[0]?.entity.name).toMatch(/^recommendation/)
    const unknown = (await (await post({ service: 'no-such-service', from: '-10m' })).json()) as {
      rootCauses: unknown[]
      note: string
    }
    expect(unknown).toMatchObject({
      rootCauses: [],
      note: 'no anomaly on no-such-service or near it in the range',
    })
    expect((await post({ namespace: 'shop' })).status).toBe(400)

    const missing = await fetch(`${api}/api/v1/incidents/inc-none`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: { code: 'ARGUS_ERR_NOT_FOUND', message: 'no incident inc-none' },
    })
    const bad = await fetch(`${api}/api/v1/incidents?status=burning`)
    expect(bad.status).toBe(400)
  })
})
