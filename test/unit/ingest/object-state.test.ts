import { describe, expect, it } from 'vitest'
import { ClusterTopology, nodeState, podState, stateSignature } from '../../../ingest/index.js'

const context = { cluster: 'c1', now: Date.parse('2026-11-24T10:00:00Z') }

const replicaSet = {
  metadata: {
    name: 'cart-6d8f7b9c4d',
    namespace: 'shop',
    uid: 'rs-1',
    ownerReferences: [{ kind: 'Deployment', name: 'cart', uid: 'dep-1', controller: true }],
  },
}

/** A pod whose container was OOM-killed once and is running again, as the kubelet reports it. */
const oomPod = {
  kind: 'Pod',
  metadata: {
    name: 'cart-6d8f7b9c4d-x7k2p',
    namespace: 'shop',
    uid: 'pod-1',
    labels: { app: 'cart', 'pod-template-hash': '6d8f7b9c4d' },
    creationTimestamp: '2026-11-24T09:00:00Z',
    ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-6d8f7b9c4d', uid: 'rs-1', controller: true }],
  },
  spec: { nodeName: 'node-a' },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-24T09:30:05Z' }],
    containerStatuses: [
      {
        name: 'cart',
        ready: true,
        restartCount: 1,
        state: { running: { startedAt: '2026-11-24T09:30:01Z' } },
        lastState: {
          terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-11-24T09:30:00Z' },
        },
      },
    ],
  },
}

const slice = (pods: string[]) => ({
  metadata: {
    name: 'cart-abc',
    namespace: 'shop',
    uid: 'slice-1',
    labels: { 'kubernetes.io/service-name': 'cart' },
  },
  endpoints: pods.map((name) => ({ targetRef: { kind: 'Pod', name, namespace: 'shop' } })),
})

describe('pod state', () => {
  it('records an OOM kill, restarts, the node, and ownership up to the Deployment and service', () => {
    const topology = new ClusterTopology()
    topology.setReplicaSet(replicaSet, false)
    topology.setEndpointSlice(slice(['cart-6d8f7b9c4d-x7k2p']), false)
    const state = podState(oomPod, topology.placementOf(oomPod), context)
    expect(state).toMatchObject({
      cluster: 'c1',
      namespace: 'shop',
      pod: 'cart-6d8f7b9c4d-x7k2p',
      node: 'node-a',
      phase: 'Running',
      workload: { kind: 'Deployment', name: 'cart' },
      service: 'cart',
      owners: [
        { kind: 'ReplicaSet', name: 'cart-6d8f7b9c4d' },
        { kind: 'Deployment', name: 'cart' },
      ],
      services: ['cart'],
      deleted: false,
    })
    expect(state?.containers).toEqual([
      {
        name: 'cart',
        state: 'running',
        ready: true,
        restarts: 1,
        lastTerminationReason: 'OOMKilled',
        lastExitCode: 137,
        lastTerminatedTs: Date.parse('2026-11-24T09:30:00Z'),
      },
    ])
    // The time is the pod's latest transition, so a relist of the same state gives the same row.
    expect(state?.ts).toBe(Date.parse('2026-11-24T09:30:05Z'))
  })

  it('reports a container waiting in CrashLoopBackOff', () => {
    const crashing = structuredClone(oomPod)
    crashing.status.containerStatuses[0] = {
      name: 'cart',
      ready: false,
      restartCount: 5,
      state: { waiting: { reason: 'CrashLoopBackOff' } } as never,
      lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: '2026-11-24T09:40:00Z' } },
    }
    const state = podState(crashing, { owners: [], services: [] }, context)
    expect(state?.containers[0]).toMatchObject({ state: 'waiting', reason: 'CrashLoopBackOff', restarts: 5 })
    expect(state?.containers[0]?.lastTerminationReason).toBe('Error')
  })

  it('falls back to labels for the service and leaves a bare pod without a workload', () => {
    const bare = { metadata: { name: 'debug', namespace: 'ops', labels: { app: 'toolbox' } }, status: {} }
    const state = podState(bare, { owners: [], services: [] }, context)
    expect(state).toMatchObject({ phase: 'Unknown', service: 'toolbox', owners: [] })
    expect(state?.workload).toBeUndefined()
    expect(podState('not an object', { owners: [], services: [] }, context)).toBeUndefined()
    expect(podState({ metadata: {} }, { owners: [], services: [] }, context)).toBeUndefined()
  })

  it('the signature ignores the time but sees every other difference', () => {
    const a = podState(oomPod, { owners: [], services: [] }, context)!
    const b = { ...a, ts: a.ts + 5000 }
    expect(stateSignature(a)).toBe(stateSignature(b))
    expect(stateSignature(a)).not.toBe(stateSignature({ ...a, services: ['cart'] }))
  })
})

describe('service topology from EndpointSlices', () => {
  it('answers which pods changed services when a slice gains, loses or drops them', () => {
    const topology = new ClusterTopology()
    expect(topology.setEndpointSlice(slice(['p1', 'p2']), false).sort()).toEqual(['shop/p1', 'shop/p2'])
    expect(topology.setEndpointSlice(slice(['p2', 'p3']), false).sort()).toEqual(['shop/p1', 'shop/p3'])
    const pod = (name: string) => ({ metadata: { name, namespace: 'shop' } })
    expect(topology.placementOf(pod('p1')).services).toEqual([])
    expect(topology.placementOf(pod('p3')).services).toEqual(['cart'])
    // A second slice of another service listing p2: both services.
    topology.setEndpointSlice(
      {
        ...slice(['p2']),
        metadata: { ...slice([]).metadata, uid: 'slice-2', labels: { 'kubernetes.io/service-name': 'api' } },
      },
      false,
    )
    expect(topology.placementOf(pod('p2')).services).toEqual(['api', 'cart'])
    expect(topology.setEndpointSlice(slice([]), true).sort()).toEqual(['shop/p2', 'shop/p3'])
    expect(topology.placementOf(pod('p2')).services).toEqual(['api'])
  })

  it('stops at the ReplicaSet when its Deployment is not known', () => {
    const topology = new ClusterTopology()
    expect(topology.placementOf(oomPod).owners).toEqual([{ kind: 'ReplicaSet', name: 'cart-6d8f7b9c4d' }])
    topology.setReplicaSet(replicaSet, false)
    topology.setReplicaSet(replicaSet, true)
    expect(topology.placementOf(oomPod).owners).toHaveLength(1)
  })
})

describe('node state', () => {
  const node = (ready: string, memoryPressure: string, heartbeat: string) => ({
    metadata: { name: 'node-a', uid: 'n1', creationTimestamp: '2026-11-01T00:00:00Z' },
    spec: {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready,
          reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
          lastHeartbeatTime: heartbeat,
          lastTransitionTime: '2026-11-24T08:00:00Z',
        },
        {
          type: 'MemoryPressure',
          status: memoryPressure,
          lastHeartbeatTime: heartbeat,
          lastTransitionTime: '2026-11-24T08:00:00Z',
        },
      ],
    },
  })

  it('reports readiness and pressure, and a heartbeat alone does not change the signature', () => {
    const a = nodeState(node('True', 'False', '2026-11-24T09:00:00Z'), context)!
    const b = nodeState(node('True', 'False', '2026-11-24T09:00:10Z'), context)!
    expect(a).toMatchObject({ phase: 'Ready', node: 'node-a', reason: 'KubeletReady' })
    expect(stateSignature(a)).toBe(stateSignature(b))
    const pressured = nodeState(node('False', 'True', '2026-11-24T09:00:20Z'), context)!
    expect(pressured.phase).toBe('NotReady')
    expect(pressured.conditions).toContainEqual({ type: 'MemoryPressure', status: 'True' })
    expect(stateSignature(pressured)).not.toBe(stateSignature(a))
  })

  it('marks a cordoned node', () => {
    const cordoned = { ...node('True', 'False', 'x'), spec: { unschedulable: true } }
    expect(nodeState(cordoned, context)?.conditions).toContainEqual({ type: 'Unschedulable', status: 'True' })
  })
})
