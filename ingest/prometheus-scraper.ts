import { counter, errorMessage, gauge, type Component, type Logger, type Registry } from '../core/index.js'
import type { RawIntake } from './raw-intake.js'

export interface ScrapeTarget {
  /** e.g. http://10.0.0.5:9100/metrics */
  url: string
  /** Prometheus's `job` label; `argus` by default. */
  job?: string
}

export interface PrometheusScraperOptions {
  intake: RawIntake
  logger: Logger
  metrics: Registry
  targets: readonly ScrapeTarget[]
  intervalMs: number
  timeoutMs?: number
}

/**
 * Scrapes Prometheus text-format endpoints on an interval, as Prometheus does: each series gets the
 * target's `job` and `instance` labels (series that carry their own keep them), and a synthetic
 * `up` sample says whether the scrape worked. A failed target is counted and logged once until it
 * recovers; rounds never overlap.
 */
export function createPrometheusScraper(options: PrometheusScraperOptions): Component {
  const logger = options.logger.child({ component: 'prometheus-scraper' })
  const scrapes = counter(
    options.metrics,
    'argus_prometheus_scrapes_total',
    'Scrapes of configured targets',
    ['job', 'outcome'],
  )
  const duration = gauge(
    options.metrics,
    'argus_prometheus_scrape_round_seconds',
    'How long the last round took',
  )
  const failing = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  let round: Promise<void> | undefined
  let stopped = false

  async function scrape(target: ScrapeTarget, ts: number): Promise<void> {
    const url = new URL(target.url)
    const labels = { job: target.job ?? 'argus', instance: url.host }
    let up = 0
    try {
      const response = await fetch(url, {
        headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      })
      if (!response.ok) throw new Error(`answered ${response.status}`)
      await options.intake.prometheusText(await response.text(), { ts, labels })
      up = 1
      scrapes.inc({ job: labels.job, outcome: 'ok' })
      if (failing.delete(target.url)) logger.info({ target: target.url }, 'scrape target recovered')
    } catch (error) {
      scrapes.inc({ job: labels.job, outcome: 'failed' })
      if (!failing.has(target.url))
        logger.warn({ target: target.url, err: errorMessage(error) }, 'scrape failed')
      failing.add(target.url)
    }
    await options.intake
      .prometheusText(`up ${up}\n`, { ts, labels })
      .catch((error: unknown) => logger.warn({ err: errorMessage(error) }, 'recording up failed'))
  }

  function schedule(delayMs: number): void {
    if (stopped) return
    timer = setTimeout(() => {
      const started = Date.now()
      round = Promise.all(options.targets.map((t) => scrape(t, started))).then(() => {
        duration.set((Date.now() - started) / 1000)
        schedule(Math.max(0, options.intervalMs - (Date.now() - started)))
      })
    }, delayMs)
  }

  return {
    name: 'prometheus-scraper',
    start() {
      logger.info({ targets: options.targets.map((t) => t.url), intervalMs: options.intervalMs }, 'scraping')
      schedule(0)
      return Promise.resolve()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await round
    },
  }
}
