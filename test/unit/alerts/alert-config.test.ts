import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseAlertConfig } from '../../../alerts/alert-config.js'

const FIXTURE = 'test/fixtures/alerts/alerts.yaml'
const valid = readFileSync(FIXTURE, 'utf8')

describe('alert configuration', () => {
  it('reads Alertmanager-shaped YAML: inherited grouping, durations, receivers with their platform', () => {
    const config = parseAlertConfig(valid)
    expect(config.route).toMatchObject({
      receiver: 'platform-wecom',
      groupWaitMs: 30_000,
      repeatIntervalMs: 4 * 3_600_000,
    })
    expect(config.route.routes.map((r) => [r.receiver, r.groupWaitMs, r.continue])).toEqual([
      ['oncall-dingtalk', 10_000, true],
      ['shop-feishu', 30_000, false],
    ])
    expect(config.receivers.get('shop-feishu')).toMatchObject({
      platform: 'feishu',
      language: 'zh',
      timeoutMs: 5_000,
    })
    expect(config.inhibitRules).toEqual([
      {
        sourceMatchers: ['alertname="NodeNotReady"'],
        targetMatchers: ['severity="warning"'],
        equal: ['node'],
      },
    ])
  })

  it.each([
    [
      'a route to an undefined receiver',
      valid.replace('receiver: shop-feishu', 'receiver: nobody'),
      /unknown receivers: nobody \(route 0\.1\)/,
    ],
    [
      'a receiver with two platforms',
      valid.replace(
        '  - name: platform-wecom\n',
        "  - name: platform-wecom\n    slack: { url: 'https://hooks.slack.com/x' }\n",
      ),
      /needs exactly one of/,
    ],
    [
      'a bad matcher',
      valid.replace('severity="critical"', 'severity=~"("'),
      /\/route\/routes\/0\/matchers: matcher/,
    ],
    [
      'a duration that is not one',
      valid.replace('group_wait: 30s', 'group_wait: soon'),
      /\/route\/group_wait/,
    ],
    ['an unknown field', valid.replace('group_by:', 'group_bye:'), /\/route/],
    [
      'a secret on a platform that does not sign',
      valid.replace(
        "wecom: { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY' }",
        "wecom: { url: 'https://qyapi.weixin.qq.com/x', secret: 's' }",
      ),
      /only dingtalk and feishu sign/,
    ],
  ])('refuses %s, naming the place', (_what, text, message) => {
    expect(() => parseAlertConfig(text, 'alerts.yaml')).toThrow(message)
  })
})

describe('argus alerts', () => {
  const argus = (...args: string[]) =>
    spawnSync('node', ['bin/argus.js', 'alerts', ...args], { encoding: 'utf8', timeout: 30_000 })

  it('check-config says what it found, and exits 2 with the reason for a broken file', () => {
    const ok = argus('check-config', FIXTURE)
    expect(ok.status).toBe(0)
    expect(ok.stdout).toContain(
      'ok: 3 receivers (platform-wecom: wecom, oncall-dingtalk: dingtalk, shop-feishu: feishu), 3 routes, 1 inhibit rules',
    )
    const missing = argus('check-config', 'test/fixtures/alerts/none.yaml')
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/cannot read test\/fixtures\/alerts\/none\.yaml/)
  })

  it('route-test names the receivers an alert with these labels reaches', () => {
    const critical = argus(
      'route-test',
      FIXTURE,
      'severity=critical',
      'namespace=shop',
      'alertname=HighLatency',
    )
    expect(
      critical.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['oncall-dingtalk', 'shop-feishu'])
    const other = argus('route-test', FIXTURE, 'namespace=kube-system')
    expect(other.stdout).toMatch(/^platform-wecom\troute 0\t/)
    expect(argus('route-test', FIXTURE, 'no-equals-sign').status).toBe(2)
  })
})
