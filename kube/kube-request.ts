import { request as httpRequest } from 'node:http'
import { request as httpsRequest, type RequestOptions } from 'node:https'
import type { KubeConfig } from '@kubernetes/client-node'
import { ArgusError } from '../core/index.js'

/** An error answer from the API server, with its HTTP status (410 Gone means: relist). */
export class KubeApiError extends ArgusError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    // 4xx other than 408/429 will not heal by retrying the same request.
    const retriable = status >= 500 || status === 408 || status === 429 || status === 0
    super('ARGUS_ERR_KUBE_API', message, { retriable, details: { status } })
    this.name = 'KubeApiError'
  }
}

/** A GET against the API server with the kubeconfig's credentials, answering parsed JSON. */
export async function getJson<T>(
  config: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
  timeoutMs = 30_000,
): Promise<T> {
  const { status, body } = await get(config, path, query, timeoutMs, 'application/json')
  try {
    return JSON.parse(body) as T
  } catch {
    throw new KubeApiError(status, `GET ${path}: answer is not JSON`)
  }
}

/** A GET answering text, e.g. kubelet metrics through the node proxy. */
export async function getText(config: KubeConfig, path: string, timeoutMs = 30_000): Promise<string> {
  return (await get(config, path, {}, timeoutMs, 'text/plain;version=0.0.4;q=1,*/*;q=0.1')).body
}

async function get(
  config: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  timeoutMs: number,
  accept: string,
): Promise<{ status: number; body: string }> {
  const cluster = config.getCurrentCluster()
  if (!cluster) throw new ArgusError('ARGUS_ERR_CONFIG', 'no current Kubernetes cluster')
  const url = new URL(cluster.server + path)
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(key, String(value))
  const options: RequestOptions = { method: 'GET', headers: { accept } }
  await config.applyToHTTPSOptions(options)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, { ...options, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (error) => reject(new KubeApiError(0, `GET ${path}: ${error.message}`)))
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const status = response.statusCode ?? 0
        if (status >= 200 && status < 300) {
          resolve({ status, body })
          return
        }
        let message = body.slice(0, 300)
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? message
        } catch {
          // not a Status object; keep the raw text
        }
        reject(new KubeApiError(status, `GET ${path} answered ${status}: ${message}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)))
    req.on('error', (error) => reject(new KubeApiError(0, `GET ${path}: ${error.message}`)))
    req.end()
  })
}
