/** What one service of the simulated application is and what it costs to serve a request. */
export interface ServiceSpec {
  name: string
  kind: 'Deployment' | 'StatefulSet'
  replicas: number
  image: string
  port: number
  /** Own work per request at low load, milliseconds. */
  selfLatencyMs: number
  /** CPU per request, millicore-seconds (1 = 1 ms of one core). */
  cpuPerRequest: number
  /** Per-pod CPU limit, millicores; utilisation above it throttles and queues. */
  cpuLimit: number
  memoryBaseMiB: number
  memoryLimitMiB: number
  baseErrorRate: number
  /** Bytes per request in and out, for network counters and flows. */
  requestBytes: number
  responseBytes: number
  callees: ReadonlyArray<{ service: string; callsPerRequest: number }>
}

/**
 * A twelve-service shop, as in the well-known microservice demos: the frontend fans out to
 * catalog, cart, recommendation, ads and currency; checkout calls payment, shipping, currency,
 * email and cart; cart sits on a cache and catalog and payment on a database.
 */
export const SHOP_SERVICES: readonly ServiceSpec[] = [
  svc('frontend', 3, 'shop/frontend:2.4.1', 8080, 12, 25, 1000, 180, 512, 0.001, 900, 18_000, [
    ['catalog', 1.5],
    ['cart', 0.5],
    ['recommendation', 0.5],
    ['ads', 0.5],
    ['currency', 1],
    ['checkout', 0.05],
  ]),
  svc('catalog', 2, 'shop/catalog:1.9.0', 3550, 6, 8, 1000, 220, 512, 0.0005, 300, 6_000, [['database', 1]]),
  svc('cart', 2, 'shop/cart:3.1.2', 7070, 4, 2, 500, 160, 384, 0.0005, 400, 2_000, [['cache', 2]]),
  svc('checkout', 2, 'shop/checkout:1.4.2', 5050, 20, 6, 1000, 200, 512, 0.002, 1_200, 1_500, [
    ['cart', 1],
    ['payment', 1],
    ['shipping', 1],
    ['currency', 1],
    ['email', 1],
  ]),
  svc('payment', 2, 'shop/payment:2.0.3', 50051, 35, 4, 500, 150, 384, 0.003, 600, 400, [['database', 1]]),
  svc('shipping', 1, 'shop/shipping:1.1.0', 50052, 8, 2, 500, 120, 256, 0.001, 300, 300, []),
  svc('currency', 2, 'shop/currency:1.3.5', 7000, 2, 1, 500, 100, 256, 0.0002, 150, 200, []),
  svc('email', 1, 'shop/email:1.0.7', 8081, 15, 3, 500, 140, 256, 0.001, 2_000, 100, []),
  svc('recommendation', 2, 'shop/recommendation:0.9.4', 8082, 18, 8, 1000, 300, 768, 0.001, 300, 1_500, [
    ['catalog', 1],
  ]),
  svc('ads', 1, 'shop/ads:1.2.0', 9555, 5, 2, 500, 200, 512, 0.001, 200, 1_000, []),
  svc('cache', 1, 'redis:7.2', 6379, 0.5, 0.3, 1000, 300, 1024, 0, 100, 800, [], 'StatefulSet'),
  svc('database', 1, 'postgres:16.3', 5432, 3, 1.5, 2000, 900, 2048, 0, 300, 2_500, [], 'StatefulSet'),
]

function svc(
  name: string,
  replicas: number,
  image: string,
  port: number,
  selfLatencyMs: number,
  cpuPerRequest: number,
  cpuLimit: number,
  memoryBaseMiB: number,
  memoryLimitMiB: number,
  baseErrorRate: number,
  requestBytes: number,
  responseBytes: number,
  callees: Array<[string, number]>,
  kind: ServiceSpec['kind'] = 'Deployment',
): ServiceSpec {
  return {
    name,
    kind,
    replicas,
    image,
    port,
    selfLatencyMs,
    cpuPerRequest,
    cpuLimit,
    memoryBaseMiB,
    memoryLimitMiB,
    baseErrorRate,
    requestBytes,
    responseBytes,
    callees: callees.map(([service, callsPerRequest]) => ({ service, callsPerRequest })),
  }
}

export const SHOP_NODES: readonly string[] = ['node-1', 'node-2', 'node-3', 'node-4']

/** Services ordered so each comes before everything it calls (the frontend first). */
export function callOrder(services: readonly ServiceSpec[]): ServiceSpec[] {
  const byName = new Map(services.map((s) => [s.name, s]))
  const visited = new Set<string>()
  const order: ServiceSpec[] = []
  const visit = (spec: ServiceSpec): void => {
    if (visited.has(spec.name)) return
    visited.add(spec.name)
    for (const callee of spec.callees) visit(byName.get(callee.service) as ServiceSpec)
    order.push(spec)
  }
  for (const spec of services) visit(spec)
  return order.reverse()
}
