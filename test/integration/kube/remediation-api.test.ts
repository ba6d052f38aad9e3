import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { Action } from '../../../core/index.js'
import { startArgus, type ArgusProcess } from '../../helpers/argus-process.js'
import { deploymentManifest, kubeAdmin } from '../../helpers/kube-admin.js'
import { until } from '../../helpers/until.js'

// The whole loop through `argus start` on the real cluster, driven only through the HTTP API as an
// operator would: a crash-looping Deployment becomes an incident, the policy asks for approval,
// approval through the API restarts it; the kill switch through the API stops the next action.
// Nothing here publishes to the bus directly.
const dataDir = mkdtempSync(join(tmpdir(), 'argus-remediation-api-'))
const admin = kubeAdmin(inject('kubeStateDir'), 17443)
const ns = `approve-${Date.now().toString(36)}`
let argus: ArgusProcess | undefined

afterAll(async () => {
  await argus?.stop('SIGTERM')
  rmSync(dataDir, { recursive: true, force: true })
})

interface Deployment {
  spec: { template: { metadata: { annotations?: Record<string, string> } } }
}

/**
 * A Deployment whose pod crash-loops, as the kubelet reports it: a Warning BackOff Event on the
 * pod (kwok's pods run nothing, so the test writes the Event the kubelet would).
 */
async function crashLooping(name: string): Promise<void> {
  await admin.createDeployment(
    deploymentManifest({ namespace: ns, name, replicas: 1, containers: [{ name, image: `${name}:1` }] }),
  )
  const pod = await until(async () => {
    const pods = await admin.get<{
      items: Array<{ metadata: { name: string; uid: string }; spec: { nodeName?: string } }>
    }>(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${name}`)
    return pods.items.find((p) => p.spec.nodeName)
  }, `a scheduled pod of ${name}`)
  const now = new Date().toISOString()
  await admin.create(`/api/v1/namespaces/${ns}/events`, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.backoff`, namespace: ns },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata.name,
      namespace: ns,
      uid: pod.metadata.uid,
      fieldPath: `spec.containers{${name}}`,
    },
    reason: 'BackOff',
    message: `Back-off restarting failed container ${name} in pod ${pod.metadata.name}`,
    type: 'Warning',
    source: { component: 'kubelet', host: pod.spec.nodeName },
    firstTimestamp: now,
    lastTimestamp: now,
    // The kubelet counts repeats; the analyzer tells a count that doubles (1, 2, 4, ...).
    count: 4,
  })
}

async function api<T>(path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${argus?.url}${path}`, {
    ...(body !== undefined && {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  })
  return { status: response.status, body: (await response.json()) as T }
}

const auditLog = async (): Promise<Action[]> =>
  (await api<{ actions: Action[] }>(`/api/v1/actions?from=-1h&to=${Date.now() + 60_000}&limit=1000`)).body
    .actions

async function decided(name: string, status: Action['status']): Promise<Action> {
  let seen: Action[] = []
  return until(
    async () => {
      seen = await auditLog()
      return seen.find((a) => a.target.name === name && a.status === status)
    },
    () =>
      `${status} for ${name}; audit log: ${JSON.stringify(seen.map((a) => [a.target.name, a.status, a.reason]))}`,
    90_000,
    500,
  )
}

describe('remediation through the HTTP API on a real cluster', () => {
  it('waits for an approval given through the API, then acts; the kill switch through the API stops the next action', async () => {
    await admin.createNamespace(ns)
    const policies = join(dataDir, 'policies.yaml')
    writeFileSync(
      policies,
      [
        'mode: enforce',
        `namespaces: { allow: [${ns}] }`,
        'policies:',
        '  - name: crashloop-restart',
        '    match: { anomaly_kinds: [crash_loop] }',
        '    actions: [{ action: restart }]',
        '    require_approval: true',
        '    dry_run: false',
        '    cooldown: 0s',
      ].join('\n'),
    )
    argus = await startArgus({
      dataDir,
      env: {
        KUBECONFIG: inject('kubeconfig'),
        ARGUS_REMEDIATION_CONFIG: policies,
        ARGUS_WRITER_MAX_WAIT_MS: '100',
        ARGUS_KUBE_METRICS_INTERVAL_MS: '0',
      },
    })

    await crashLooping('api')
    const waiting = await decided('api', 'pending_approval')
    expect(waiting).toMatchObject({ policy: 'crashloop-restart', kind: 'restart', target: { namespace: ns } })
    const before = await admin.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/api`)
    expect(before.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined()

    // Bad requests are refused with a reason, and change nothing.
    expect((await api(`/api/v1/actions/${waiting.id}/approve`, {})).status).toBe(400)
    const unknown = await api<{ error: { code: string } }>('/api/v1/actions/no-such-action/approve', {
      by: 'ana',
    })
    expect(unknown.status).toBe(404)

    const approved = await api<{ accepted: boolean }>(`/api/v1/actions/${waiting.id}/approve`, { by: 'ana' })
    expect(approved).toMatchObject({ status: 202, body: { accepted: true } })
    const executed = await decided('api', 'executed')
    expect(executed.actor).toBe('ana')
    const after = await admin.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/api`)
    expect(after.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined()
    // No longer waiting: a second approval is a conflict.
    const again = await api<{ error: { code: string } }>(`/api/v1/actions/${waiting.id}/approve`, {
      by: 'ana',
    })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('ARGUS_ERR_CONFLICT')

    expect((await api('/api/v1/remediation/kill-switch', { on: 'yes', by: 'oncall' })).status).toBe(400)
    const killed = await api('/api/v1/remediation/kill-switch', { on: true, by: 'oncall' })
    expect(killed.status).toBe(202)
    await crashLooping('worker')
    const stopped = await decided('worker', 'skipped')
    expect(stopped.reason).toBe('the kill switch is on: no action runs')
    expect(
      (await auditLog()).some((a) => a.target.name === 'worker' && a.status === 'pending_approval'),
    ).toBe(false)
  })
})
