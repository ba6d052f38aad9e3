import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

/** A fresh local control plane from scripts/ for the Kubernetes tests, on ports of its own. */
const env = {
  ...process.env,
  KUBE_STATE_DIR: join(tmpdir(), 'argus-kube-tests'),
  KUBE_API_PORT: '17443',
  KUBE_ETCD_PORT: '13379',
  KUBE_KCM_PORT: '21257',
  KUBE_SCHEDULER_PORT: '21259',
  KUBE_KUBELET_PORT: '21250',
  KUBE_FRESH: '1',
}

export function setup(project: TestProject): () => void {
  const kubeconfig = execFileSync('bash', ['scripts/kube-start.sh'], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
  project.provide('kubeconfig', kubeconfig)
  project.provide('kubeStateDir', env.KUBE_STATE_DIR)
  return () => {
    execFileSync('bash', ['scripts/kube-stop.sh'], { env, stdio: 'inherit' })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string
    kubeStateDir: string
  }
}
