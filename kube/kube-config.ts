import { existsSync } from 'node:fs'
import { KubeConfig } from '@kubernetes/client-node'
import { ArgusError } from '../core/index.js'

/**
 * The Kubernetes connection, found as kubectl finds it: an explicit kubeconfig path, then
 * KUBECONFIG, then the in-cluster service account (KUBERNETES_SERVICE_HOST), then ~/.kube/config.
 */
export function loadKubeConfig(options: { path?: string; env?: NodeJS.ProcessEnv } = {}): KubeConfig {
  const env = options.env ?? process.env
  const config = new KubeConfig()
  try {
    if (options.path) {
      if (!existsSync(options.path))
        throw new ArgusError('ARGUS_ERR_CONFIG', `kubeconfig ${options.path} does not exist`)
      config.loadFromFile(options.path)
    } else if (!env.KUBECONFIG && env.KUBERNETES_SERVICE_HOST) {
      config.loadFromCluster()
    } else {
      config.loadFromDefault()
    }
  } catch (error) {
    if (error instanceof ArgusError) throw error
    throw new ArgusError('ARGUS_ERR_CONFIG', `cannot load the Kubernetes configuration: ${String(error)}`, {
      cause: error,
    })
  }
  if (!config.getCurrentCluster())
    throw new ArgusError('ARGUS_ERR_CONFIG', 'the Kubernetes configuration names no current cluster')
  return config
}
