import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadKubeConfig, scaleWorkload, type KubeConfig } from '../../../kube/index.js'

// A stand-in API server that answers the first write with 409 Conflict, as the real one does when
// the object changed between our read and our write. (The real API server is in the kube tests.)
const dir = mkdtempSync(join(tmpdir(), 'argus-actions-'))
let server: Server
let config: KubeConfig
let version = 1
let conflictsLeft = 0
const patches: Array<{ resourceVersion: string; replicas: number }> = []

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      response.setHeader('content-type', 'application/json')
      if (request.method === 'GET') {
        response.end(
          JSON.stringify({ metadata: { resourceVersion: String(version) }, spec: { replicas: 2 } }),
        )
        return
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        metadata: { resourceVersion: string }
        spec: { replicas: number }
      }
      patches.push({ resourceVersion: body.metadata.resourceVersion, replicas: body.spec.replicas })
      if (conflictsLeft > 0) {
        conflictsLeft--
        version++ // someone else wrote meanwhile
        response.statusCode = 409
        response.end(JSON.stringify({ kind: 'Status', code: 409, message: 'the object has been modified' }))
        return
      }
      response.end(JSON.stringify({ metadata: {}, spec: body.spec }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const file = join(dir, 'kubeconfig')
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'fake', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u' } }],
      'current-context': 'fake',
    }),
  )
  config = loadKubeConfig({ kind: 'file', path: file })
})

afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('workload actions and conflicts', () => {
  it('retries a 409 Conflict on fresh state, sending the new resourceVersion', async () => {
    conflictsLeft = 2
    patches.length = 0
    const result = await scaleWorkload(config, { kind: 'Deployment', namespace: 'shop', name: 'cart' }, 5)
    expect(result).toMatchObject({ changed: true, detail: { from: 2, to: 5 } })
    expect(patches.map((p) => p.resourceVersion)).toEqual(['1', '2', '3'])
  })

  it('gives up after eight conflicts with the API error, having backed off between them', async () => {
    conflictsLeft = 10
    patches.length = 0
    const started = Date.now()
    await expect(
      scaleWorkload(config, { kind: 'Deployment', namespace: 'shop', name: 'cart' }, 5),
    ).rejects.toMatchObject({ code: 'ARGUS_ERR_KUBE_API', status: 409 })
    expect(patches).toHaveLength(8)
    // 50 ms doubling to 1 s, with 20 % jitter: seven waits of at least 2.8 s in all.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_800)
  }, 15_000)

  it('refuses bad input before calling the API', async () => {
    patches.length = 0
    const target = { kind: 'Deployment' as const, namespace: 'shop', name: 'cart' }
    await expect(scaleWorkload(config, target, -1)).rejects.toMatchObject({ code: 'ARGUS_ERR_BAD_INPUT' })
    await expect(scaleWorkload(config, { ...target, kind: 'DaemonSet' }, 2)).rejects.toThrow(
      /cannot be scaled/,
    )
    expect(patches).toEqual([])
  })
})
