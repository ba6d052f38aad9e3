import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'argus-remediation-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const checkConfig = (file: string) =>
  spawnSync('node', ['bin/argus.js', 'remediation', 'check-config', file], {
    encoding: 'utf8',
    timeout: 30_000,
  })

describe('argus remediation check-config', () => {
  it('says which policies would act, wait for approval, or stay dry-run', () => {
    const file = join(dir, 'policies.yaml')
    writeFileSync(
      file,
      `
mode: enforce
policies:
  - name: crashloops
    match: { anomaly_kinds: [crash_loop] }
    actions: [{ action: restart }, { action: rollback }]
    dry_run: false
  - name: gated
    match: { anomaly_kinds: [error_surge] }
    actions: [{ action: rollback }]
    dry_run: false
    require_approval: true
  - name: shadow
    match: { anomaly_kinds: [leak] }
    actions: [{ action: restart }]
autoscaling:
  - name: web
    match: { names: 'frontend' }
    replicas: { min: 2, max: 6 }
`,
    )
    const ok = checkConfig(file)
    expect(ok.status).toBe(0)
    expect(ok.stdout.split('\n')).toEqual([
      `${file}: ok: mode enforce, 3 policies, 1 autoscaling policies`,
      'policy crashloops: restart then rollback: acts',
      'policy gated: rollback: acts after approval',
      'policy shadow: restart: dry-run', // a policy is dry-run unless it says otherwise
      'autoscaling web: 2..6 replicas: dry-run',
      '',
    ])
    // The shipped examples are valid, and change nothing until enforced.
    const shipped = checkConfig('deploy/remediation/policies.yaml')
    expect(shipped.status).toBe(0)
    expect(shipped.stdout).not.toMatch(/: acts/)
  })

  it('exits 2 with the place of the error for a broken file', () => {
    const file = join(dir, 'broken.yaml')
    writeFileSync(file, 'policies:\n  - name: Bad_Name\n    match: {}\n    actions: [{ action: restart }]\n')
    const broken = checkConfig(file)
    expect(broken.status).toBe(2)
    expect(broken.stderr).toContain('/policies/0/name must match pattern')
    expect(checkConfig(join(dir, 'none.yaml')).status).toBe(2)
  })
})
