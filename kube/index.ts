export { describeKubeConfig, findKubeConfig, loadKubeConfig } from './kube-config.js'
export type { KubeConfigSource } from './kube-config.js'
export { getJson, KubeApiError } from './kube-request.js'
export { createInformer } from './informer.js'
export type { Informer, InformerEvent, InformerOptions, KubeObject } from './informer.js'
export type { KubeConfig } from '@kubernetes/client-node'
export { getText, writeJson } from './kube-request.js'
export type { PatchType } from './kube-request.js'
export {
  deletePod,
  restartWorkload,
  rollbackDeployment,
  scaleWorkload,
  setContainerMemoryLimit,
  setHpaBounds,
} from './workload-actions.js'
export type { ActionOptions, ActionResult, WorkloadTarget } from './workload-actions.js'
