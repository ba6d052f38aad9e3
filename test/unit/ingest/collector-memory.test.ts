import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CollectorMemory } from '../../../ingest/collector-memory.js'
import { objectChanges } from '../../../ingest/index.js'
import { quietLogger } from '../../helpers/quiet-logger.js'

const dirs: string[] = []
const fileIn = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-memory-'))
  dirs.push(dir)
  return join(dir, 'kube-checkpoints.json')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const deployment = (image: string, replicas: number) => ({
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'd1',
    resourceVersion: '17',
    managedFields: [{ manager: 'kubectl', time: '2026-11-24T10:00:00Z' }],
    annotations: { 'deployment.kubernetes.io/revision': '3' },
  },
  spec: { replicas, template: { spec: { containers: [{ name: 'web', image }] } } },
  status: { readyReplicas: replicas },
})

describe('collector memory', () => {
  it('survives a restart: checkpoints, and snapshots that turn a change made meanwhile into a rollout', () => {
    const file = fileIn()
    const first = new CollectorMemory(file, quietLogger())
    first.track('Deployment', () => '42')
    first.remember(deployment('web:1', 2), false)
    first.close()

    const second = new CollectorMemory(file, quietLogger())
    expect(second.checkpoint('Deployment')).toBe('42')
    const changed = deployment('web:2', 2)
    const changes = objectChanges(second.snapshotOf(changed), changed, { cluster: 'c', now: 1 })
    expect(changes.map((c) => c.changeKind)).toEqual(['rollout'])
    expect(changes[0]?.images).toEqual([{ container: 'web', from: 'web:1', to: 'web:2' }])
  })

  it('forgets deleted objects and keeps long config values as a prefix with a digest', () => {
    const file = fileIn()
    const memory = new CollectorMemory(file, quietLogger())
    const long = 'x'.repeat(5000)
    const config = { kind: 'ConfigMap', metadata: { name: 'c', uid: 'cm1' }, data: { big: long, small: 'a' } }
    memory.remember(config, false)
    const kept = memory.snapshotOf(config) as { data: Record<string, string> }
    expect(kept.data.small).toBe('a')
    expect(kept.data.big ?? '').toMatch(/^x+\.\.\. sha256:[0-9a-f]{12}$/)
    expect((kept.data.big ?? '').length).toBeLessThan(250)
    memory.remember(config, true)
    expect(memory.snapshotOf(config)).toBeUndefined()
  })

  it('starts empty, with a warning, from a torn or foreign file', () => {
    const file = fileIn()
    writeFileSync(file, '{"checkpoints": {"Pod": "1"')
    expect(new CollectorMemory(file, quietLogger()).checkpoint('Pod')).toBeUndefined()
    writeFileSync(file, JSON.stringify({ Pod: '5' })) // an older flat format
    const memory = new CollectorMemory(file, quietLogger())
    expect(memory.checkpoint('Pod')).toBeUndefined()
    memory.close()
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ checkpoints: {}, snapshots: {} })
  })
})
