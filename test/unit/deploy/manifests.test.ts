import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { ENV_VARS } from '../../../core/index.js'

// The shipped manifests stay valid and agree with the code they configure (ports, paths, settings).
const manifests = (dir: string) =>
  readdirSync(join('deploy', dir))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join('deploy', dir, f), 'utf8')).map((d) => {
        if (d.errors.length > 0) throw new Error(`${dir}/${f}: ${d.errors[0]?.message}`)
        return d.toJS() as {
          apiVersion?: string
          kind?: string
          data?: Record<string, string>
          spec?: unknown
        }
      }),
    )

describe('deploy manifests', () => {
  for (const dir of ['kubernetes', 'fluent-bit', 'fluentd'])
    it(`${dir}: every document is a Kubernetes object`, () => {
      for (const doc of manifests(dir)) {
        expect(doc.apiVersion, JSON.stringify(doc).slice(0, 80)).toBeTruthy()
        expect(doc.kind).toBeTruthy()
      }
    })

  it('ship logs over Forward with acks to the port Argus listens on, and flows to its flow endpoint', () => {
    const bit = manifests('fluent-bit').find((d) => d.kind === 'ConfigMap')?.data?.['fluent-bit.conf'] ?? ''
    expect(bit).toMatch(/Name\s+forward[\s\S]*Port\s+24224[\s\S]*Require_ack_response\s+True/)
    expect(bit).toMatch(/URI\s+\/ingest\/flows/)
    const fluentd = manifests('fluentd').find((d) => d.kind === 'ConfigMap')?.data?.['fluent.conf'] ?? ''
    expect(fluentd).toMatch(/@type forward[\s\S]*require_ack_response true[\s\S]*port 24224/)
  })

  it('configure Argus only with settings it has', () => {
    const known = new Set(ENV_VARS.map((v) => v.name))
    const text = JSON.stringify(manifests('kubernetes'))
    const used = [...text.matchAll(/"name":"(ARGUS_[A-Z_]+)"/g)].map((m) => m[1] as string)
    expect(used.length).toBeGreaterThan(3)
    expect(used.filter((name) => !known.has(name))).toEqual([])
  })
})
