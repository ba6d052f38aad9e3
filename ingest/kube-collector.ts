import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  createInformer,
  type Informer,
  type InformerEvent,
  type KubeConfig,
  type KubeObject,
} from '../kube/index.js'
import type { Component, Logger, Registry } from '../core/index.js'
import type { RawIntake } from './raw-intake.js'

/** What the collector watches: Events become KubeEvents; the rest become resource changes. */
export const WATCHED_RESOURCES = [
  { path: '/api/v1/events', kind: 'Event' },
  { path: '/apis/apps/v1/deployments', kind: 'Deployment' },
  { path: '/apis/apps/v1/statefulsets', kind: 'StatefulSet' },
  { path: '/apis/apps/v1/daemonsets', kind: 'DaemonSet' },
  { path: '/apis/autoscaling/v2/horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler' },
  { path: '/api/v1/configmaps', kind: 'ConfigMap' },
] as const

export interface KubeCollectorOptions {
  config: KubeConfig
  intake: RawIntake
  logger: Logger
  metrics: Registry
  /** Where each resource's handled resourceVersion is kept, so a restart neither repeats nor skips. */
  checkpointFile: string
}

export interface KubeCollector extends Component {
  /** Resolves when every resource has been listed once. */
  readonly synced: Promise<void>
}

type Checkpoints = Record<string, string>

function readCheckpoints(file: string, logger: Logger): Checkpoints {
  if (!existsSync(file)) return {}
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Checkpoints
  } catch (error) {
    // A torn file costs a full relist (repeated events), never a crash loop.
    logger.warn({ err: error, file }, 'kube checkpoint unreadable; starting from a full list')
    return {}
  }
}

/**
 * Watches the cluster and feeds Events and object changes (rollouts, scaling, config) into the
 * intake. Each resource's handled resourceVersion is saved after its events are published, so a
 * restarted collector resumes where it stopped: objects it had reported are not reported again.
 */
export function createKubeCollector(options: KubeCollectorOptions): KubeCollector {
  const logger = options.logger.child({ component: 'kube-collector' })
  const checkpoints = readCheckpoints(options.checkpointFile, logger)
  let flushTimer: NodeJS.Timeout | undefined

  function saveCheckpoints(): void {
    for (const [path, informer] of informers)
      if (informer.handledThrough) checkpoints[path] = informer.handledThrough
    mkdirSync(dirname(options.checkpointFile), { recursive: true })
    const temporary = `${options.checkpointFile}.tmp`
    writeFileSync(temporary, JSON.stringify(checkpoints))
    renameSync(temporary, options.checkpointFile) // atomic: a crash leaves the old or the new file
  }
  /** Saves at most twice a second, however many batches are handled. */
  function saveSoon(): void {
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined
      saveCheckpoints()
    }, 500)
  }

  async function handle(kind: string, events: Array<InformerEvent<KubeObject>>): Promise<void> {
    if (kind === 'Event') {
      // Deletions of Event objects are their expiry (TTL), not news.
      const occurred = events.filter((e) => e.type !== 'DELETED').map((e) => e.object)
      if (occurred.length > 0) await options.intake.kubeEvents(occurred)
    } else {
      await options.intake.objectUpdates(
        events.map((e) => ({
          before: e.previous,
          after: e.type === 'DELETED' ? undefined : e.object,
          deleted: e.type === 'DELETED',
        })),
      )
    }
    saveSoon()
  }

  const informers = new Map<string, Informer>(
    WATCHED_RESOURCES.map(({ path, kind }) => [
      path,
      createInformer({
        config: options.config,
        path,
        kind,
        logger,
        metrics: options.metrics,
        handledThrough: checkpoints[path],
        handle: (events) => handle(kind, events),
      }),
    ]),
  )

  return {
    name: 'kube-collector',
    synced: Promise.all([...informers.values()].map((i) => i.synced)).then(() => undefined),
    async start() {
      for (const informer of informers.values()) await informer.start()
      logger.info({ resources: WATCHED_RESOURCES.map((r) => r.kind) }, 'watching the cluster')
    },
    async stop() {
      clearTimeout(flushTimer)
      await Promise.all([...informers.values()].map((i) => i.stop()))
      saveCheckpoints()
    },
  }
}
