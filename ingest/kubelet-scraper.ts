import { getText, type KubeConfig } from '../kube/index.js'
import { counter, errorMessage, gauge, type Component, type Logger, type Registry } from '../core/index.js'
import type { RawIntake } from './raw-intake.js'

export interface KubeletScraperOptions {
  config: KubeConfig
  intake: RawIntake
  logger: Logger
  metrics: Registry
  /** The nodes to scrape now (the collector's Ready nodes). */
  nodes: () => readonly string[]
  intervalMs: number
  /** Kubelet paths, e.g. `/metrics/resource`; `{node}` is replaced by the node name. */
  paths: readonly string[]
  /** Scrapes in flight at once, so a large cluster does not open a connection per node at once. */
  concurrency?: number
  timeoutMs?: number
}

/**
 * Scrapes each node's kubelet (`/metrics/resource`, `/metrics/cadvisor`) through the API server's
 * node proxy, as `kubectl get --raw /api/v1/nodes/NODE/proxy/metrics/cadvisor` does: no network
 * path to the nodes is needed, only `get nodes/proxy`. Series become metric samples with pod,
 * container and namespace from their labels and the node from the target. A failed node is
 * counted and logged and does not hold back the others; rounds never overlap.
 */
export function createKubeletScraper(options: KubeletScraperOptions): Component {
  const logger = options.logger.child({ component: 'kubelet-scraper' })
  const scrapes = counter(options.metrics, 'argus_kubelet_scrapes_total', 'Kubelet metric scrapes', [
    'path',
    'outcome',
  ])
  const roundSeconds = gauge(
    options.metrics,
    'argus_kubelet_scrape_round_seconds',
    'How long the last round over all nodes took',
  )
  const concurrency = options.concurrency ?? 4
  let timer: NodeJS.Timeout | undefined
  let round: Promise<void> | undefined
  let stopped = false
  /** Failing targets are logged once until they recover, not every round. */
  const failing = new Set<string>()

  async function scrape(node: string, template: string, ts: number): Promise<void> {
    const path = template.replaceAll('{node}', encodeURIComponent(node))
    const target = `/api/v1/nodes/${encodeURIComponent(node)}/proxy${path}`
    try {
      const text = await getText(options.config, target, options.timeoutMs ?? 10_000)
      await options.intake.prometheusText(text, { node, ts })
      scrapes.inc({ path: template, outcome: 'ok' })
      if (failing.delete(target)) logger.info({ node, path }, 'kubelet scrape recovered')
    } catch (error) {
      scrapes.inc({ path: template, outcome: 'failed' })
      if (!failing.has(target)) logger.warn({ node, path, err: errorMessage(error) }, 'kubelet scrape failed')
      failing.add(target)
    }
  }

  async function scrapeAll(): Promise<void> {
    const started = Date.now()
    const targets = options.nodes().flatMap((node) => options.paths.map((path) => ({ node, path })))
    let next = 0
    const worker = async (): Promise<void> => {
      while (!stopped && next < targets.length) {
        const target = targets[next++] as { node: string; path: string }
        await scrape(target.node, target.path, started)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker))
    roundSeconds.set((Date.now() - started) / 1000)
  }

  function schedule(delayMs: number): void {
    if (stopped) return
    timer = setTimeout(() => {
      round = scrapeAll().finally(() => schedule(options.intervalMs))
    }, delayMs)
  }

  return {
    name: 'kubelet-scraper',
    start() {
      schedule(0)
      logger.info({ intervalMs: options.intervalMs, paths: options.paths }, 'scraping kubelet metrics')
      return Promise.resolve()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await round
    },
  }
}
