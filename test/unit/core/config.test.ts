import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG, loadConfig, redactConfig } from '../../../core/index.js'
import { argusErrorOf } from '../../helpers/argus-error-of.js'

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'argus-config-')), 'argus.yaml')
  writeFileSync(file, text)
  return file
}

describe('loadConfig', () => {
  it('uses the defaults when nothing is set', () => {
    expect(loadConfig({ env: {} })).toEqual(DEFAULT_CONFIG)
  })

  it('layers YAML, then environment, then overrides', () => {
    const file = yamlFile('cluster: prod-eu\nhttp:\n  port: 9000\n  host: 0.0.0.0\n')
    const config = loadConfig({
      file,
      env: { ARGUS_HTTP_PORT: '9100' },
      overrides: { dataDir: '/var/lib/argus' },
    })
    expect(config.cluster).toBe('prod-eu')
    expect(config.http.host).toBe('0.0.0.0')
    expect(config.http.port).toBe(9100)
    expect(config.dataDir).toBe('/var/lib/argus')
    expect(config.http.bodyLimitBytes).toBe(DEFAULT_CONFIG.http.bodyLimitBytes)
  })

  it('names the field and the variable when an env value has the wrong type', () => {
    const error = argusErrorOf(() => loadConfig({ env: { ARGUS_HTTP_PORT: 'eighty' } }))
    expect(error.code).toBe('ARGUS_ERR_CONFIG')
    expect(error.message).toContain('http.port')
    expect(error.message).toContain('ARGUS_HTTP_PORT')
  })

  it('names out-of-range and unknown fields from YAML', () => {
    const file = yamlFile('http:\n  port: 70000\n  prot: 1\nwriter:\n  maxBatchRows: 0\n')
    const error = argusErrorOf(() => loadConfig({ file, env: {} }))
    expect(error.message).toContain('http.port')
    expect(error.message).toContain('http.prot: unknown field')
    expect(error.message).toContain('writer.maxBatchRows')
  })

  it('rejects a config file that is not YAML', () => {
    const file = yamlFile('http: [unclosed\n')
    expect(argusErrorOf(() => loadConfig({ file, env: {} })).message).toContain('not valid YAML')
  })

  it('redacts secrets for logs', () => {
    const config = loadConfig({ env: { CLICKHOUSE_PASSWORD: 's3cret', CLICKHOUSE_URL: 'http://ch:8123' } })
    expect(config.clickhouse.password).toBe('s3cret')
    expect(JSON.stringify(redactConfig(config))).not.toContain('s3cret')
  })
})
