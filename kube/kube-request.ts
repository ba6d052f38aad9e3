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

type Query = Record<string, string | number | boolean | undefined>

/** A GET against the API server with the kubeconfig's credentials, answering parsed JSON. */
export async function getJson<T>(
  config: KubeConfig,
  path: string,
  query: Query = {},
  timeoutMs = 30_000,
): Promise<T> {
  return parsed<T>('GET', path, await send(config, 'GET', path, { query, timeoutMs }))
}

/** A GET answering text, e.g. kubelet metrics through the node proxy. */
export async function getText(config: KubeConfig, path: string, timeoutMs = 30_000): Promise<string> {
  return (await send(config, 'GET', path, { timeoutMs, accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' }))
    .body
}

/** How a PATCH body is to be read: JSON merge patch, or strategic merge (lists merged by key). */
export type PatchType = 'merge' | 'strategic'
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
}

/** A write (PATCH, PUT, POST, DELETE) answering the object the API server returns. */
export async function writeJson<T>(
  config: KubeConfig,
  method: 'PATCH' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body: unknown,
  options: { patchType?: PatchType; query?: Query; timeoutMs?: number } = {},
): Promise<T> {
  const contentType =
    method === 'PATCH' ? PATCH_CONTENT_TYPES[options.patchType ?? 'merge'] : 'application/json'
  const answer = await send(config, method, path, {
    query: options.query ?? {},
    timeoutMs: options.timeoutMs ?? 30_000,
    body: body === undefined ? undefined : JSON.stringify(body),
    contentType,
  })
  return parsed<T>(method, path, answer)
}

function parsed<T>(method: string, path: string, answer: { status: number; body: string }): T {
  try {
    return JSON.parse(answer.body) as T
  } catch {
    throw new KubeApiError(answer.status, `${method} ${path}: answer is not JSON`)
  }
}

async function send(
  config: KubeConfig,
  method: string,
  path: string,
  options: {
    query?: Query
    timeoutMs: number
    accept?: string
    body?: string | undefined
    contentType?: string
  },
): Promise<{ status: number; body: string }> {
  const cluster = config.getCurrentCluster()
  if (!cluster) throw new ArgusError('ARGUS_ERR_CONFIG', 'no current Kubernetes cluster')
  const url = new URL(cluster.server + path)
  for (const [key, value] of Object.entries(options.query ?? {}))
    if (value !== undefined) url.searchParams.set(key, String(value))
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' }
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json'
  const requestOptions: RequestOptions = { method, headers }
  await config.applyToHTTPSOptions(requestOptions)
  const transport = url.protocol === 'https:' ? httpsRequest : httpRequest
  const what = `${method} ${path}`
  return new Promise((resolve, reject) => {
    const req = transport(url, { ...requestOptions, timeout: options.timeoutMs }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', (error) => reject(new KubeApiError(0, `${what}: ${error.message}`)))
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
        reject(new KubeApiError(status, `${what} answered ${status}: ${message}`))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)))
    req.on('error', (error) => reject(new KubeApiError(0, `${what}: ${error.message}`)))
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}
