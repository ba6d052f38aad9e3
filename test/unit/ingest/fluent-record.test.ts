import { describe, expect, it } from 'vitest'
import { inferWorkload, normaliseFluentRecord, parseTimestamp } from '../../../ingest/index.js'

const context = { cluster: 'prod', now: 1_700_000_000_000, source: 'fluentd-http' }

/** A record as fluentd's kubernetes_metadata filter leaves it (tail of a CRI log file). */
const fluentdRecord = {
  log: '2024-05-01T10:00:00Z ERROR payment declined for order 42\n',
  stream: 'stderr',
  time: '2024-05-01T10:00:00.123456789Z',
  docker: { container_id: 'abc' },
  kubernetes: {
    container_name: 'checkout',
    namespace_name: 'shop',
    pod_name: 'checkout-5f7c9d8b6-x2x7q',
    container_image: 'registry/checkout:1.4.2',
    pod_id: '0f1e2d3c-aaaa-bbbb-cccc-1234567890ab',
    host: 'node-2',
    labels: { app: 'checkout', 'pod-template-hash': '5f7c9d8b6' },
  },
  trace_id: 'abc123',
}

describe('normaliseFluentRecord', () => {
  it('maps the fluentd kubernetes metadata block to the envelope', () => {
    const result = normaliseFluentRecord(fluentdRecord, context)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.record).toMatchObject({
      ts: Date.parse('2024-05-01T10:00:00.123Z'),
      cluster: 'prod',
      namespace: 'shop',
      pod: 'checkout-5f7c9d8b6-x2x7q',
      container: 'checkout',
      node: 'node-2',
      workload: { kind: 'Deployment', name: 'checkout' },
      service: 'checkout',
      stream: 'stderr',
      level: 'error',
      message: '2024-05-01T10:00:00Z ERROR payment declined for order 42',
      source: 'fluentd-http',
    })
    expect(result.record.attributes).toMatchObject({
      trace_id: 'abc123',
      'container.image': 'registry/checkout:1.4.2',
      'label.app': 'checkout',
    })
  })

  it("derives a pod's workload and label attributes again when its labels change", () => {
    // Pod metadata is derived once per pod name and labels; a relabelled pod must not keep the old.
    const line = (labels: Record<string, unknown>) =>
      normaliseFluentRecord(
        { log: 'x', kubernetes: { namespace_name: 'shop', pod_name: 'web-0', labels } },
        context,
      )
    const first = line({ app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0' })
    const same = line({ app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0' })
    const relabelled = line({ app: 'frontend' })
    const extraLabel = line({ app: 'frontend', tier: 'edge' })
    expect(first).toMatchObject({
      record: { workload: { kind: 'StatefulSet', name: 'web' }, service: 'web' },
    })
    expect(same).toMatchObject({ record: { workload: { kind: 'StatefulSet', name: 'web' } } })
    expect(relabelled).toMatchObject({ ok: true, record: { service: 'frontend' } })
    if (!relabelled.ok || !extraLabel.ok) return
    expect(relabelled.record.workload).toBeUndefined()
    expect(relabelled.record.attributes).toEqual({ 'label.app': 'frontend' })
    expect(extraLabel.record.attributes).toEqual({ 'label.app': 'frontend', 'label.tier': 'edge' })
  })

  it("shares one frozen attributes object among a container's lines that have none of their own", () => {
    // As the NDJSON and Forward decoders hand a repeated pod metadata block over: one frozen object.
    const kubernetes = Object.freeze({
      namespace_name: 'shop',
      pod_name: 'cart-6d4cf56db6-abcde',
      container_image: 'registry/cart:2.0',
      labels: Object.freeze({ app: 'cart' }),
    })
    const tagged = { ...context, attributes: { 'fluent.tag': 'kube.cart' } }
    const lines = ['a', 'b', 'c'].map((log) => normaliseFluentRecord({ log, kubernetes }, tagged))
    const attributes = lines.map((line) => (line.ok ? line.record.attributes : undefined))
    expect(attributes[0]).toEqual({
      'container.image': 'registry/cart:2.0',
      'label.app': 'cart',
      'fluent.tag': 'kube.cart',
    })
    expect(attributes[1]).toBe(attributes[0])
    expect(attributes[2]).toBe(attributes[0])
    expect(Object.isFrozen(attributes[0])).toBe(true)

    // A line with fields of its own gets its own object: its fields, the pod's, then the context's,
    // which win over a field of the same name.
    const own = normaliseFluentRecord({ log: 'd', kubernetes, trace_id: 't1', 'fluent.tag': 'x' }, tagged)
    expect(own.ok && own.record.attributes).toEqual({
      trace_id: 't1',
      'fluent.tag': 'kube.cart',
      'container.image': 'registry/cart:2.0',
      'label.app': 'cart',
    })
    expect(own.ok && Object.isFrozen(own.record.attributes)).toBe(false)
    // Another tag, or a block that is not frozen (it could change), is not served from the last line.
    const retagged = normaliseFluentRecord(
      { log: 'e', kubernetes },
      { ...context, attributes: { 'fluent.tag': 'kube.x' } },
    )
    expect(retagged.ok && retagged.record.attributes?.['fluent.tag']).toBe('kube.x')
    const open: Record<string, unknown> = { ...kubernetes }
    const first = normaliseFluentRecord({ log: 'f', kubernetes: open }, tagged)
    open.container_image = 'registry/cart:2.1'
    const second = normaliseFluentRecord({ log: 'g', kubernetes: open }, tagged)
    expect(first.ok && first.record.attributes?.['container.image']).toBe('registry/cart:2.0')
    expect(second.ok && second.record.attributes?.['container.image']).toBe('registry/cart:2.1')
    // Nothing to say: no attributes at all.
    const bare = normaliseFluentRecord({ log: 'h' }, context)
    expect(bare.ok && bare.record.attributes).toBeUndefined()
  })

  it('reads fluent-bit records: `date` as fractional epoch seconds and a level field', () => {
    const result = normaliseFluentRecord({ date: 1714557600.25, log: 'all good', level: 'WARNING' }, context)
    expect(result).toMatchObject({ ok: true, record: { ts: 1714557600250, level: 'warn' } })
  })

  it('falls back to the receive time when the record has none', () => {
    const result = normaliseFluentRecord({ message: 'no time here' }, context)
    expect(result).toMatchObject({ ok: true, record: { ts: context.now, level: 'unknown' } })
  })

  it.each([
    ['E0501 10:00:00.000000       1 controller.go:114] sync failed', 'error'],
    ['level=warn msg="disk almost full"', 'warn'],
    ['[INFO] started', 'info'],
    ['panic: runtime error: index out of range', 'fatal'],
    ['GET /healthz 200', 'unknown'],
  ])('detects the level of %j as %s', (message, level) => {
    expect(normaliseFluentRecord({ log: message }, context)).toMatchObject({ ok: true, record: { level } })
  })

  it.each([
    [[1, 2], 'record must be a JSON object'],
    [{ stream: 'stdout' }, 'no message field'],
    [{ log: 5 }, 'log must be a string'],
    [{ log: 'x', time: 'yesterday-ish' }, 'time is not a timestamp'],
    [{ log: 'x', kubernetes: 'shop' }, 'kubernetes must be an object'],
    [{ log: 'x', kubernetes: { pod_name: 7 } }, 'kubernetes.pod_name must be a string'],
    [{ log: 'x', stream: 'stdin' }, 'stream must be'],
  ])('rejects %j with a reason', (record, reason) => {
    const result = normaliseFluentRecord(record, context)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toContain(reason)
  })
})

describe('parseTimestamp', () => {
  it('accepts seconds, milliseconds, nanoseconds and RFC 3339', () => {
    expect(parseTimestamp(1714557600)).toBe(1714557600000)
    expect(parseTimestamp(1714557600123)).toBe(1714557600123)
    expect(parseTimestamp(1714557600123e6)).toBe(1714557600123)
    expect(parseTimestamp('1714557600.5')).toBe(1714557600500)
    expect(parseTimestamp('2024-05-01T10:00:00+02:00')).toBe(Date.parse('2024-05-01T08:00:00Z'))
    expect(parseTimestamp('garbage')).toBeUndefined()
    expect(parseTimestamp(-1)).toBeUndefined()
  })
})

describe('inferWorkload', () => {
  it('recognises the controllers by the labels they set', () => {
    expect(inferWorkload('web-6d4cf56db6-7k2xq', { 'pod-template-hash': '6d4cf56db6' })).toEqual({
      kind: 'Deployment',
      name: 'web',
    })
    expect(
      inferWorkload('db-2', {
        'controller-revision-hash': 'db-7b9',
        'statefulset.kubernetes.io/pod-name': 'db-2',
      }),
    ).toEqual({
      kind: 'StatefulSet',
      name: 'db',
    })
    expect(
      inferWorkload('fluentd-8xk2p', { 'controller-revision-hash': '5c8', 'pod-template-generation': '3' }),
    ).toEqual({
      kind: 'DaemonSet',
      name: 'fluentd',
    })
    expect(inferWorkload('migrate-abcde', { 'job-name': 'migrate' })).toEqual({
      kind: 'Job',
      name: 'migrate',
    })
    expect(inferWorkload('standalone', {})).toBeUndefined()
  })
})
