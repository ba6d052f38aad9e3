import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { ArgusError } from '../core/index.js'

/** Where the cluster connection comes from. */
export type KubeConfigSource = { kind: 'in-cluster' } | { kind: 'file'; path: string }

/**
 * The cluster connection, found in this order: KUBECONFIG, the in-cluster service account
 * (KUBERNETES_SERVICE_HOST), ~/.kube/config. Undefined when there is none (demo mode).
 */
export function findKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfigSource | undefined {
  if (env.KUBECONFIG) return { kind: 'file', path: env.KUBECONFIG }
  if (env.KUBERNETES_SERVICE_HOST) return { kind: 'in-cluster' }
  const home = join(homedir(), '.kube', 'config')
  return existsSync(home) ? { kind: 'file', path: home } : undefined
}

export function describeKubeConfig(source: KubeConfigSource): string {
  return source.kind === 'in-cluster' ? 'in-cluster service account' : `kubeconfig ${source.path}`
}

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const config = new KubeConfig()
  try {
    if (source.kind === 'in-cluster') {
      config.loadFromCluster()
    } else {
      // KUBECONFIG may list several files, as for kubectl: the first one that exists is used.
      const path = source.path.split(delimiter).find((file) => file && existsSync(file))
      if (!path) throw new ArgusError('ARGUS_ERR_CONFIG', `kubeconfig ${source.path} does not exist`)
      config.loadFromFile(path)
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
