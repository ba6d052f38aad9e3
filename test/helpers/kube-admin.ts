import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { promisify } from 'node:util'

const run = promisify(execFile)

interface ContainerSpec {
  name: string
  image: string
  resources?: { limits?: Record<string, string> }
}

/** A Deployment whose pods carry `app: <name>`, as the tests create them. */
export function deploymentManifest(options: {
  namespace: string
  name: string
  replicas: number
  containers: ContainerSpec[]
  podAnnotations?: Record<string, string>
}) {
  const labels = { app: options.name }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(options.podAnnotations && { annotations: options.podAnnotations }) },
        spec: { containers: options.containers },
      },
    },
  }
}

/** Admin access to the test control plane, as kubectl would do it, for tests to change the cluster. */
export function kubeAdmin(stateDir: string, apiPort: number) {
  const pki = `${stateDir}/pki`
  const tls = {
    ca: readFileSync(`${pki}/ca.crt`),
    cert: readFileSync(`${pki}/admin.crt`),
    key: readFileSync(`${pki}/admin.key`),
  }
  function call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: apiPort, path, method, ...tls, headers: { 'content-type': contentType } },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (c: Buffer) => chunks.push(c))
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if ((response.statusCode ?? 500) >= 300)
              reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`))
            else resolve(JSON.parse(text) as T)
          })
        },
      )
      req.on('error', reject)
      if (body !== undefined) req.write(JSON.stringify(body))
      req.end()
    })
  }
  const env = { ...process.env, KUBE_STATE_DIR: stateDir }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    create: <T>(path: string, body: unknown) => call<T>('POST', path, body),
    patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body, 'application/merge-patch+json'),
    remove: <T>(path: string) => call<T>('DELETE', path),
    createNamespace: (name: string) =>
      call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    createDeployment: (manifest: ReturnType<typeof deploymentManifest>) =>
      call('POST', `/apis/apps/v1/namespaces/${manifest.metadata.namespace}/deployments`, manifest),
    /** Stops the API server (SIGTERM) and starts it again with the same etcd. */
    async restartApiServer(ports: Record<string, string>): Promise<void> {
      const pid = Number(readFileSync(`${stateDir}/kube-apiserver.pid`, 'utf8'))
      process.kill(pid, 'SIGTERM')
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 100))
      await run('bash', ['scripts/kube-start.sh'], { env: { ...env, ...ports } })
    },
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
