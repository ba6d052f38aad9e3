export { describeKubeConfig, findKubeConfig, loadKubeConfig } from './kube-config.js'
export type { KubeConfigSource } from './kube-config.js'
export { getJson, getText, KubeApiError, writeJson } from './kube-request.js'
export { createInformer } from './informer.js'
export type { Informer, InformerEvent, InformerOptions, KubeObject } from './informer.js'
export type { KubeConfig } from '@kubernetes/client-node'
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
