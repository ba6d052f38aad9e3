import { describe, expect, it } from 'vitest'
import { normaliseCalicoFlow, normaliseKubeEvent, objectChanges } from '../../../ingest/index.js'

const context = { cluster: 'prod', now: 1_700_000_000_000 }

describe('normaliseKubeEvent', () => {
  it('reads a core/v1 Event', () => {
    const result = normaliseKubeEvent(
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: 'cart-6d4cf56db6-7k2xq.17a',
          namespace: 'shop',
          uid: 'e-1',
          creationTimestamp: '2024-05-01T10:00:00Z',
        },
        involvedObject: { kind: 'Pod', namespace: 'shop', name: 'cart-6d4cf56db6-7k2xq', uid: 'p-1' },
        reason: 'OOMKilling',
        message: 'Memory cgroup out of memory',
        source: { component: 'kubelet', host: 'node-2' },
        firstTimestamp: '2024-05-01T09:58:00Z',
        lastTimestamp: '2024-05-01T10:00:00Z',
        count: 3,
        type: 'Warning',
      },
      context,
    )
    expect(result).toEqual({
      ok: true,
      record: {
        ts: Date.parse('2024-05-01T10:00:00Z'),
        cluster: 'prod',
        uid: 'e-1',
        type: 'Warning',
        reason: 'OOMKilling',
        message: 'Memory cgroup out of memory',
        involvedObject: { kind: 'Pod', name: 'cart-6d4cf56db6-7k2xq', namespace: 'shop', uid: 'p-1' },
        namespace: 'shop',
        count: 3,
        reportingComponent: 'kubelet',
        firstTs: Date.parse('2024-05-01T09:58:00Z'),
        pod: 'cart-6d4cf56db6-7k2xq',
        workload: { kind: 'Deployment', name: 'cart' },
        node: 'node-2',
      },
    })
  })

  it('reads an events.k8s.io/v1 Event with a series', () => {
    const result = normaliseKubeEvent(
      {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'x', namespace: 'shop', uid: 'e-2' },
        regarding: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
        note: 'Scaled up replica set cart-6d4cf56db6 to 3',
        reason: 'ScalingReplicaSet',
        type: 'Normal',
        eventTime: '2024-05-01T10:00:00.000000Z',
        series: { count: 4, lastObservedTime: '2024-05-01T10:05:00.000000Z' },
        reportingController: 'deployment-controller',
      },
      context,
    )
    expect(result).toMatchObject({
      ok: true,
      record: {
        ts: Date.parse('2024-05-01T10:05:00Z'),
        count: 4,
        workload: { kind: 'Deployment', name: 'cart' },
        reportingComponent: 'deployment-controller',
      },
    })
  })

  it('rejects events without identity', () => {
    expect(normaliseKubeEvent({ metadata: {} }, context)).toMatchObject({ ok: false })
    expect(
      normaliseKubeEvent({ metadata: { uid: 'x' }, involvedObject: { kind: 'Pod' } }, context),
    ).toMatchObject({ ok: false })
  })
})

const deployment = (revision: string, image: string, replicas: number): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'cart',
    namespace: 'shop',
    uid: 'd-1',
    annotations: { 'deployment.kubernetes.io/revision': revision },
  },
  spec: {
    replicas,
    template: {
      spec: {
        containers: [
          { name: 'cart', image },
          { name: 'sidecar', image: 'envoy:1.30' },
        ],
      },
    },
  },
  status: { readyReplicas: replicas },
})

describe('objectChanges', () => {
  it('reports a rollout with revision and image diff, and a scale, from one update', () => {
    const changes = objectChanges(
      deployment('4', 'shop/cart:1.2', 3),
      deployment('5', 'shop/cart:1.3', 5),
      context,
    )
    expect(changes).toEqual([
      expect.objectContaining({
        changeKind: 'rollout',
        revision: '5',
        images: [{ container: 'cart', from: 'shop/cart:1.2', to: 'shop/cart:1.3' }],
        workload: { kind: 'Deployment', name: 'cart' },
      }),
      expect.objectContaining({ changeKind: 'scale', fromReplicas: 3, toReplicas: 5 }),
    ])
  })

  it('ignores status-only updates', () => {
    const before = deployment('4', 'shop/cart:1.2', 3)
    const after = { ...before, status: { readyReplicas: 1 } }
    expect(objectChanges(before, after, context)).toEqual([])
  })

  it('diffs ConfigMaps, and never exposes Secret values', () => {
    const cm = (value: string) => ({
      kind: 'ConfigMap',
      metadata: { name: 'cart-config', namespace: 'shop' },
      data: { POOL_SIZE: value },
    })
    expect(objectChanges(cm('10'), cm('1'), context)[0]).toMatchObject({
      changeKind: 'config',
      diff: [{ path: 'data.POOL_SIZE', from: '10', to: '1' }],
    })
    const secret = (value: string) => ({
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
      data: { PASSWORD: value },
    })
    const [change] = objectChanges(secret('aHVudGVyMg=='), secret('c2VjcmV0'), context)
    expect(JSON.stringify(change)).not.toContain('aHVudGVyMg')
    expect(change?.diff).toEqual([{ path: 'data.PASSWORD', from: '(redacted)', to: '(redacted)' }])
  })

  it('reports creation and deletion', () => {
    expect(objectChanges(undefined, deployment('1', 'a', 1), context)[0]?.changeKind).toBe('create')
    expect(
      objectChanges(deployment('1', 'a', 1), undefined, { ...context, deleted: true })[0]?.changeKind,
    ).toBe('delete')
  })
})

describe('normaliseCalicoFlow', () => {
  const record = {
    start_time: 1714557600,
    end_time: 1714557900,
    source_ip: null,
    source_name: '-',
    source_name_aggr: 'frontend-6d4cf56db6-*',
    source_namespace: 'shop',
    source_type: 'wep',
    source_labels: { labels: ['app=frontend', 'pod-template-hash=6d4cf56db6'] },
    dest_name: '-',
    dest_name_aggr: 'cart-7d9f8b6c5d-*',
    dest_namespace: 'shop',
    dest_type: 'wep',
    dest_port: 8080,
    dest_labels: { labels: ['app=cart'] },
    dest_service_name: 'cart',
    dest_service_namespace: 'shop',
    proto: '6',
    action: 'deny',
    reporter: 'src',
    policies: { all_policies: ['0|default|shop/deny-cart|deny|0'] },
    bytes_in: 0,
    bytes_out: 1200,
    packets_in: 0,
    packets_out: 20,
    num_flows: 10,
    host: 'node-1',
  }

  it('maps the documented fields', () => {
    expect(normaliseCalicoFlow(record, context)).toMatchObject({
      ok: true,
      record: {
        ts: 1714557900000,
        startTs: 1714557600000,
        source: { namespace: 'shop', aggregatedName: 'frontend-6d4cf56db6-*', labels: { app: 'frontend' } },
        destination: { aggregatedName: 'cart-7d9f8b6c5d-*', port: 8080, labels: { app: 'cart' } },
        destServiceName: 'cart',
        protocol: 'tcp',
        action: 'deny',
        flowCount: 10,
        policies: ['0|default|shop/deny-cart|deny|0'],
        namespace: 'shop',
        node: 'node-1',
      },
    })
  })

  it('rejects records without times, action or reporter', () => {
    expect(normaliseCalicoFlow({ ...record, end_time: 'soon' }, context)).toMatchObject({ ok: false })
    expect(normaliseCalicoFlow({ ...record, action: 'maybe' }, context)).toMatchObject({ ok: false })
    expect(normaliseCalicoFlow({ ...record, reporter: 'x' }, context)).toMatchObject({ ok: false })
  })
})
