import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where a Kubernetes configuration was found (in-cluster, KUBECONFIG, ~/.kube/config), or undefined. */
export function findKubernetesConfig(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KUBERNETES_SERVICE_HOST) return 'in-cluster service account'
  if (env.KUBECONFIG) return `KUBECONFIG=${env.KUBECONFIG}`
  const home = join(homedir(), '.kube', 'config')
  return existsSync(home) ? home : undefined
}
