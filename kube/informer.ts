import { Watch, type KubeConfig } from '@kubernetes/client-node'
import {
  DEFAULT_RETRY,
  backoffDelay,
  counter,
  errorMessage,
  retry,
  sleep,
  type Component,
  type Logger,
  type Registry,
  type RetryOptions,
} from '../core/index.js'
import { getJson, KubeApiError } from './kube-request.js'

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: { uid?: string; name?: string; namespace?: string; resourceVersion?: string }
  [field: string]: unknown
}

export interface InformerEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: T
  /** The object as this informer last saw it, for updates and deletes. */
  previous?: T
}

export interface InformerOptions<T extends KubeObject> {
  config: KubeConfig
  /** Collection path, e.g. `/api/v1/pods` or `/apis/apps/v1/deployments` (all namespaces). */
  path: string
  /** The objects' kind: list items come without one, so the informer sets it. */
  kind: string
  logger: Logger
  metrics: Registry
  /**
   * Receives events in order, one batch at a time; the informer waits for it (backpressure).
   * A failed batch is retried; it must be safe to see a batch again.
   */
  handle(events: Array<InformerEvent<T>>): Promise<void>
  /**
   * Objects at or below this resourceVersion were handled before (a checkpoint from an earlier
   * run): the first list does not report them again. Kubernetes calls resourceVersions opaque; in
   * practice they are etcd revisions and grow, which is what this comparison relies on.
   */
  handledThrough?: string
  /** How the cache keys objects; the uid by default. */
  keyOf?: (object: T) => string
  pageSize?: number
  /** Events waiting for `handle` beyond this make the informer drop its watch and relist. */
  maxQueued?: number
}

export interface Informer extends Component {
  /** Resolves after the first list has been handled. */
  readonly synced: Promise<void>
  /** The resourceVersion up to which every change has been handled: the checkpoint to save. */
  readonly handledThrough: string
  /** The object under this key (see `keyOf`) as last seen, answered from the informer's cache. */
  get(key: string): KubeObject | undefined
  /** Every object in the cache. */
  objects(): IterableIterator<KubeObject>
}

const RETRY: RetryOptions = {
  ...DEFAULT_RETRY,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: Infinity,
}

/** How a watch ended: `gone` (410, history compacted) and `overflow` (handler too slow) need a relist. */
type WatchEnd = 'rewatch' | 'failed' | 'gone' | 'overflow'

function rvNumber(rv: string | undefined): number {
  const n = Number(rv)
  return Number.isFinite(n) ? n : 0
}

/**
 * List+watch for one resource, like client-go's reflector: a paged list, then a watch from the
 * list's resourceVersion with bookmarks; a 410 Gone (history compacted) or an overflowing queue
 * relists and reports the difference against what it knew (adds, updates, deletes), so an outage
 * of the API server or of this process loses no final state.
 */
export function createInformer<T extends KubeObject>(options: InformerOptions<T>): Informer {
  const logger = options.logger.child({ component: 'informer', path: options.path })
  const relists = counter(
    options.metrics,
    'argus_kube_relists_total',
    'Full relists, by resource and reason',
    ['path', 'reason'],
  )
  const watchEvents = counter(options.metrics, 'argus_kube_watch_events_total', 'Watch events received', [
    'path',
    'type',
  ])
  const known = new Map<string, T>()
  const maxQueued = options.maxQueued ?? 10_000
  let handledThrough = options.handledThrough ?? ''
  let resourceVersion = ''
  // Stopping interrupts backoff waits and handler retries at once.
  const stopping = new AbortController()
  let abortWatch: AbortController | undefined
  let loop: Promise<void> | undefined
  let markSynced!: () => void
  const synced = new Promise<void>((resolve) => (markSynced = resolve))

  const keyOf =
    options.keyOf ??
    ((object: T): string =>
      object.metadata?.uid ?? `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`)

  /** Hands events over until the handler takes them; only then does the checkpoint move on. */
  async function deliver(events: Array<InformerEvent<T>>, through: string): Promise<void> {
    if (events.length > 0)
      await retry(() => options.handle(events), {
        ...RETRY,
        signal: stopping.signal,
        shouldRetry: () => true,
        onRetry: ({ attempt, delayMs, error }) =>
          logger.warn(
            { err: error, attempt, delayMs, count: events.length },
            'handling watch events failed; retrying',
          ),
      })
    if (rvNumber(through) >= rvNumber(handledThrough)) handledThrough = through
  }

  async function list(): Promise<void> {
    const items: T[] = []
    let continueToken: string | undefined
    let listVersion = ''
    do {
      const page = await getJson<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>(
        options.config,
        options.path,
        { limit: options.pageSize ?? 500, continue: continueToken },
      )
      for (const item of page.items ?? []) items.push({ ...item, kind: item.kind ?? options.kind })
      continueToken = page.metadata?.continue || undefined
      listVersion ||= page.metadata?.resourceVersion ?? ''
    } while (continueToken)

    const events: Array<InformerEvent<T>> = []
    const seen = new Set<string>()
    const floor = rvNumber(handledThrough)
    for (const object of items) {
      const key = keyOf(object)
      seen.add(key)
      const previous = known.get(key)
      known.set(key, object)
      if (previous) {
        if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion)
          events.push({ type: 'MODIFIED', object, previous })
      } else if (rvNumber(object.metadata?.resourceVersion) > floor || floor === 0) {
        events.push({ type: 'ADDED', object })
      }
    }
    for (const [key, previous] of known) {
      if (!seen.has(key)) {
        known.delete(key)
        events.push({ type: 'DELETED', object: previous, previous })
      }
    }
    resourceVersion = listVersion
    await deliver(events, listVersion)
    logger.info({ objects: items.length, reported: events.length, resourceVersion }, 'listed')
  }

  /** Watches until the stream ends, and says how it ended: `gone` and `overflow` need a relist. */
  async function watch(): Promise<WatchEnd> {
    // A bookmark carries no event, only a resourceVersion to resume from.
    const queue: Array<{ event?: InformerEvent<T>; version: string }> = []
    let outcome: WatchEnd = 'rewatch'
    let wake: (() => void) | undefined
    let ended = false
    const notify = (): void => {
      wake?.()
      wake = undefined
    }
    const controller = await new Watch(options.config).watch(
      options.path,
      { allowWatchBookmarks: true, resourceVersion, timeoutSeconds: 300 },
      (type: string, object: T & { code?: number }) => {
        watchEvents.inc({ path: options.path, type })
        if (type === 'BOOKMARK') {
          queue.push({ version: object.metadata?.resourceVersion ?? '' })
        } else if (type === 'ERROR') {
          outcome = object.code === 410 ? 'gone' : 'failed'
          controller?.abort()
          return
        } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          if (queue.length >= maxQueued) {
            logger.warn({ queued: queue.length }, 'watch events arrive faster than they are handled')
            outcome = 'overflow'
            controller?.abort()
            return
          }
          object.kind ??= options.kind
          queue.push({ event: { type, object }, version: object.metadata?.resourceVersion ?? '' })
        }
        notify()
      },
      (error: unknown) => {
        if (error && (error as { statusCode?: number }).statusCode === 410) outcome = 'gone'
        else if (
          error &&
          !stopping.signal.aborted &&
          outcome === 'rewatch' &&
          !(error instanceof Error && error.name === 'AbortError')
        ) {
          outcome = 'failed'
          logger.warn({ err: errorMessage(error) }, 'watch ended with an error; watching again')
        }
        ended = true
        notify()
      },
    )
    abortWatch = controller
    try {
      while (!stopping.signal.aborted) {
        if (queue.length === 0) {
          if (ended) break
          await new Promise<void>((resolve) => (wake = resolve))
          continue
        }
        const taken = queue.splice(0, 500)
        const events: Array<InformerEvent<T>> = []
        let through = resourceVersion
        for (const { event, version } of taken) {
          through = version || through
          if (!event) continue // bookmark: only moves the resourceVersion on
          const key = keyOf(event.object)
          const previous = known.get(key)
          if (event.type === 'DELETED') known.delete(key)
          else known.set(key, event.object)
          events.push(previous ? { ...event, previous } : event)
        }
        await deliver(events, through)
        resourceVersion = through
      }
    } finally {
      controller.abort()
    }
    return outcome
  }

  async function run(): Promise<void> {
    let attempt = 0
    let needList = true
    while (!stopping.signal.aborted) {
      try {
        if (needList) {
          await list()
          markSynced()
          needList = false
        }
        const outcome = await watch()
        if (outcome === 'failed') throw new KubeApiError(0, 'watch failed')
        attempt = 0
        if (outcome === 'gone' || outcome === 'overflow') {
          relists.inc({ path: options.path, reason: outcome })
          logger.info({ resourceVersion, reason: outcome }, 'relisting')
          needList = true
        }
      } catch (error) {
        if (stopping.signal.aborted) break
        attempt++
        if (error instanceof KubeApiError && error.status === 410) needList = true
        const delayMs = backoffDelay(attempt, RETRY)
        logger.warn({ err: errorMessage(error), attempt, delayMs }, 'list/watch failed; retrying')
        await sleep(delayMs, stopping.signal).catch(() => undefined)
      }
    }
  }

  return {
    name: `informer ${options.path}`,
    synced,
    get handledThrough() {
      return handledThrough
    },
    get: (key) => known.get(key),
    objects: () => known.values(),
    start() {
      loop ??= run()
      return Promise.resolve()
    },
    async stop() {
      stopping.abort()
      abortWatch?.abort()
      await loop
    },
  }
}
