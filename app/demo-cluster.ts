import { FAULT_KINDS, createSimulator, type GroundTruth } from '../sim/index.js'
import { createSimFeed } from './sim-feed.js'
import type { RawIntake } from '../ingest/index.js'
import { errorMessage, type ArgusConfig, type Component, type Logger } from '../core/index.js'

/**
 * Demo mode: the simulated shop cluster, stepped in real time, its telemetry fed through the same
 * ingest entry points as a real cluster's, with a fault injected every `faultIntervalMs` so a
 * first-time user sees anomalies and incidents appear.
 */
export function createDemoCluster(options: {
  config: ArgusConfig['sim']
  /** The simulated cluster's name in Argus. */
  cluster: string
  intake: RawIntake
  logger: Logger
}): Component & { readonly faults: readonly GroundTruth[] } {
  const logger = options.logger.child({ component: 'demo-cluster' })
  const { stepMs, faultIntervalMs, faultDurationMs, seed } = options.config
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let nextFault = 0
  let nextFaultTs = Number.POSITIVE_INFINITY
  let simulator: ReturnType<typeof createSimulator> | undefined
  const feed = createSimFeed(options.intake, options.cluster, logger)

  function step(): void {
    const sim = simulator
    if (!sim) return
    // One step at a time: if ingest is slower than the clock, steps queue here rather than pile up.
    running = running.then(async () => {
      if (sim.now + stepMs >= nextFaultTs) scheduleFault(sim)
      try {
        await feed(sim.step())
      } catch (error) {
        logger.warn({ err: error, reason: errorMessage(error) }, 'simulated telemetry step dropped')
      }
    })
  }

  function scheduleFault(sim: ReturnType<typeof createSimulator>): void {
    const kind = FAULT_KINDS[nextFault++ % FAULT_KINDS.length] as (typeof FAULT_KINDS)[number]
    const truth = sim.inject(kind, {
      startTs: nextFaultTs,
      durationMs: Math.min(faultDurationMs, faultIntervalMs - stepMs),
    })
    logger.info(
      { fault: kind, rootCause: truth.rootCause, startTs: truth.startTs, endTs: truth.endTs },
      `demo: injecting ${kind} (${truth.description}); root cause ${truth.rootCause.kind}/${truth.rootCause.name}`,
    )
    nextFaultTs += faultIntervalMs
  }

  return {
    name: 'demo-cluster',
    get faults() {
      return simulator?.groundTruth ?? []
    },
    async start() {
      if (simulator) return
      // Simulated time is wall-clock time: the first step lands now.
      const startTs = Date.now()
      simulator = createSimulator({ seed, startTs, stepMs })
      nextFaultTs = startTs + faultIntervalMs
      step()
      timer = setInterval(step, stepMs)
      await running
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      simulator = undefined
      await running
    },
  }
}
