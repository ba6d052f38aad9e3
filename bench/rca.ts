/**
 * Root-cause ranking on a synthetic 1,000-service graph: a layered call graph (each service calls
 * two to four in the next layer), a fault in one deep service, its anomalies propagated to every
 * transitive caller with noise anomalies elsewhere, and recent changes. Prints p50/p95/max time of
 * one ranking and whether the faulty service ranked first.
 *
 *   npm run bench:rca -- [--services 1000] [--rounds 50]
 */
import { parseArgs } from 'node:util'
import { rankIncidentRootCauses, ServiceGraph } from '../analyzers/index.js'
import type { Anomaly, ResourceChange } from '../core/index.js'

const { values } = parseArgs({
  options: { services: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '50' } },
})
const serviceCount = Number(values.services)
const rounds = Number(values.rounds)

let seed = 7
const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
const LAYERS = 8
const perLayer = Math.ceil(serviceCount / LAYERS)
const name = (i: number): string => `svc-${i}`
const layerOf = (i: number): number => Math.floor(i / perLayer)

const graph = new ServiceGraph()
const callers = new Map<number, number[]>()
for (let i = 0; i < serviceCount; i++) {
  if (layerOf(i) === LAYERS - 1) continue
  const fanOut = 2 + Math.floor(random() * 3)
  for (let k = 0; k < fanOut; k++) {
    const callee = Math.min(serviceCount - 1, (layerOf(i) + 1) * perLayer + Math.floor(random() * perLayer))
    graph.addCall(`shop/${name(i)}`, `shop/${name(callee)}`)
    callers.set(callee, [...(callers.get(callee) ?? []), i])
  }
}

const T0 = Date.parse('2026-11-01T00:00:00Z')
function anomaly(service: number, minutesAfter: number, score: number, id: string): Anomaly {
  return {
    ts: T0 + minutesAfter * 60_000,
    cluster: 'bench',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: name(service) },
    id,
    entity: { kind: 'Deployment', name: name(service), namespace: 'shop' },
    signal: 'metric',
    kind: 'spike',
    score,
    severity: score > 0.99 ? 'critical' : 'warning',
    summary: `latency of ${name(service)} rose`,
    attributes: { indicator: 'latency_seconds', movement: 'up' },
    evidence: [{ signal: 'metric', ts: T0, description: 'latency up', observed: 1, expected: 0.1 }],
  }
}

const times: number[] = []
let hits = 0
for (let round = 0; round < rounds; round++) {
  // The fault: a service in the last three layers; its transitive callers slow down after it.
  const root = Math.min(
    serviceCount - 1,
    (LAYERS - 3 + Math.floor(random() * 3)) * perLayer + Math.floor(random() * perLayer),
  )
  const anomalies: Anomaly[] = [anomaly(root, 0, 1, `r${round}-root`)]
  const seen = new Set([root])
  let frontier = [root]
  for (let hop = 1; frontier.length > 0; hop++) {
    const next: number[] = []
    for (const s of frontier)
      for (const caller of callers.get(s) ?? [])
        if (!seen.has(caller)) {
          seen.add(caller)
          next.push(caller)
          anomalies.push(anomaly(caller, hop * 0.5, 0.95 + random() * 0.05, `r${round}-${caller}`))
        }
    frontier = next
  }
  for (let n = 0; n < 20; n++) {
    const noisy = Math.floor(random() * serviceCount)
    if (!seen.has(noisy))
      anomalies.push(anomaly(noisy, random() * 5, 0.9 + random() * 0.09, `r${round}-noise-${n}`))
  }
  const changes: ResourceChange[] = Array.from({ length: 30 }, (_, n) => ({
    ts: T0 - Math.floor(random() * 3_600_000),
    cluster: 'bench',
    namespace: 'shop',
    changeKind: 'rollout',
    resource: { kind: 'Deployment', name: name(Math.floor(random() * serviceCount)), namespace: 'shop' },
    workload: { kind: 'Deployment', name: name(n) },
  }))
  const started = performance.now()
  const ranking = rankIncidentRootCauses({ anomalies, changes, graph })
  times.push(performance.now() - started)
  if (ranking[0]?.entity.name === name(root)) hits++
}
times.sort((a, b) => a - b)
const at = (q: number): string =>
  (times[Math.min(times.length - 1, Math.floor(q * times.length))] as number).toFixed(1)
console.log(
  `root-cause ranking  ${serviceCount} services, ${graph.edgeCount} call edges, ${rounds} incidents`,
)
console.log(`  p50 ${at(0.5)} ms   p95 ${at(0.95)} ms   max ${at(1)} ms`)
console.log(`  faulty service ranked first in ${hits} of ${rounds}`)
