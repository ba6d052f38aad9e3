import { isJsonObject, objectAt, stringAt, type JsonObject } from './json-object.js'
import type { PodPlacement } from './object-state.js'

type ObjectRef = PodPlacement['owners'][number]

/** The controller owner reference of an object (the one with `controller: true`), if any. */
export function controllerOf(object: unknown): { kind: string; name: string; uid?: string } | undefined {
  const refs = objectAt(object, 'metadata').ownerReferences
  if (!Array.isArray(refs)) return undefined
  const controller = refs.filter(isJsonObject).find((r) => r.controller === true) ?? refs.find(isJsonObject)
  const kind = stringAt(controller, 'kind')
  const name = stringAt(controller, 'name')
  if (!kind || !name) return undefined
  const uid = stringAt(controller, 'uid')
  return uid ? { kind, name, uid } : { kind, name }
}

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`

/**
 * Who owns a pod and which services route to it: ReplicaSets (to reach the Deployment above a
 * pod's ReplicaSet) and EndpointSlices (service membership), kept from the collector's watches.
 * Ownership resolves pod -> ReplicaSet -> Deployment; StatefulSet, DaemonSet and Job pods name
 * their workload directly.
 */
export class ClusterTopology {
  /** ReplicaSet uid -> its controller (the Deployment), or undefined for a bare ReplicaSet. */
  private readonly replicaSetOwners = new Map<string, ObjectRef | undefined>()
  /** EndpointSlice uid -> the pods it lists. */
  private readonly slicePods = new Map<string, string[]>()
  /** Pod key (namespace/name) -> EndpointSlice uid -> the slice's service. */
  private readonly slicesByPod = new Map<string, Map<string, string>>()

  setReplicaSet(replicaSet: JsonObject, deleted: boolean): void {
    const uid = stringAt(objectAt(replicaSet, 'metadata'), 'uid')
    if (!uid) return
    if (deleted) {
      this.replicaSetOwners.delete(uid)
      return
    }
    const owner = controllerOf(replicaSet)
    this.replicaSetOwners.set(uid, owner ? { kind: owner.kind, name: owner.name } : undefined)
  }

  /** Records an EndpointSlice; answers the pods whose set of services changed. */
  setEndpointSlice(slice: JsonObject, deleted: boolean): string[] {
    const metadata = objectAt(slice, 'metadata')
    const uid = stringAt(metadata, 'uid')
    const namespace = stringAt(metadata, 'namespace') ?? ''
    const service = stringAt(objectAt(metadata, 'labels'), 'kubernetes.io/service-name')
    if (!uid) return []
    const before = this.slicePods.get(uid) ?? []
    const pods: string[] = []
    if (!deleted && service) {
      const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints : []
      for (const endpoint of endpoints.filter(isJsonObject)) {
        const target = objectAt(endpoint, 'targetRef')
        const name = stringAt(target, 'name')
        if (stringAt(target, 'kind') === 'Pod' && name)
          pods.push(podKey(stringAt(target, 'namespace') ?? namespace, name))
      }
    }
    const changed: string[] = []
    for (const pod of new Set([...before, ...pods])) {
      const old = this.servicesOf(pod)
      const slices = this.slicesByPod.get(pod) ?? new Map<string, string>()
      if (pods.includes(pod) && service) slices.set(uid, service)
      else slices.delete(uid)
      if (slices.size === 0) this.slicesByPod.delete(pod)
      else this.slicesByPod.set(pod, slices)
      if (old.join() !== this.servicesOf(pod).join()) changed.push(pod)
    }
    if (pods.length > 0) this.slicePods.set(uid, pods)
    else this.slicePods.delete(uid)
    return changed
  }

  placementOf(pod: JsonObject): PodPlacement {
    const metadata = objectAt(pod, 'metadata')
    const owners: ObjectRef[] = []
    const owner = controllerOf(pod)
    if (owner) {
      owners.push({ kind: owner.kind, name: owner.name })
      if (owner.kind === 'ReplicaSet' && owner.uid) {
        const deployment = this.replicaSetOwners.get(owner.uid)
        if (deployment) owners.push(deployment)
      }
    }
    const key = podKey(stringAt(metadata, 'namespace') ?? '', stringAt(metadata, 'name') ?? '')
    return { owners, services: this.servicesOf(key) }
  }

  private servicesOf(pod: string): string[] {
    return [...new Set(this.slicesByPod.get(pod)?.values())].sort()
  }
}
