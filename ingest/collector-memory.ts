import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { KubeObject } from '../kube/index.js'
import type { Logger } from '../core/index.js'
import { isJsonObject, objectAt, stringAt, type JsonObject } from './json-object.js'

interface SavedMemory {
  /** Kind -> resourceVersion through which its changes were handled. */
  checkpoints: Record<string, string>
  /** Object uid -> the part of the object change detection compares (see `snapshot`). */
  snapshots: Record<string, JsonObject>
}

/** Config values longer than this are kept as a prefix and a digest: changes still show. */
const MAX_VALUE = 200

function shortened(value: unknown): unknown {
  if (typeof value !== 'string' || value.length <= MAX_VALUE) return value
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 12)
  return `${value.slice(0, MAX_VALUE - 20)}... sha256:${digest}`
}

/**
 * What change detection needs of an object: the pod template, replicas and revision of a
 * workload, an HPA's decision, a ConfigMap's data. Status noise and managedFields are left out.
 */
function snapshot(object: KubeObject): JsonObject {
  const metadata = objectAt(object, 'metadata')
  const kept: JsonObject = {
    kind: object.kind,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      annotations: {
        'deployment.kubernetes.io/revision': stringAt(
          objectAt(metadata, 'annotations'),
          'deployment.kubernetes.io/revision',
        ),
      },
    },
  }
  const spec = objectAt(object, 'spec')
  const status = objectAt(object, 'status')
  if (object.kind === 'HorizontalPodAutoscaler') {
    kept.spec = { scaleTargetRef: spec.scaleTargetRef }
    kept.status = { desiredReplicas: status.desiredReplicas }
  } else if (object.kind === 'ConfigMap' || object.kind === 'Secret') {
    for (const section of ['data', 'binaryData']) {
      const data = objectAt(object, section)
      kept[section] = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, shortened(v)]))
    }
  } else {
    kept.spec = { replicas: spec.replicas, template: spec.template }
    kept.status = { updateRevision: status.updateRevision }
  }
  return JSON.parse(JSON.stringify(kept)) as JsonObject // drops the undefined fields
}

/**
 * The collector's memory across restarts, in one file written atomically: how far each resource's
 * changes were handled, and a compact snapshot of every object whose changes are reported. A
 * watch resumed after a restart has no previous state for an object changed meanwhile; the
 * snapshot supplies it, so a rollout made while Argus was down is reported as a rollout, with
 * its image diff, not as a new object.
 */
export class CollectorMemory {
  private readonly saved: SavedMemory
  private readonly sources = new Map<string, () => string>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.saved = this.read()
  }

  checkpoint(kind: string): string | undefined {
    return this.saved.checkpoints[kind]
  }

  /** Registers where a resource's current checkpoint comes from; read at each save. */
  track(kind: string, handledThrough: () => string): void {
    this.sources.set(kind, handledThrough)
  }

  snapshotOf(object: KubeObject): JsonObject | undefined {
    const uid = object.metadata?.uid
    return uid ? this.saved.snapshots[uid] : undefined
  }

  remember(object: KubeObject, deleted: boolean): void {
    const uid = object.metadata?.uid
    if (!uid) return
    if (deleted) delete this.saved.snapshots[uid]
    else this.saved.snapshots[uid] = snapshot(object)
  }

  /** Saves at most twice a second, however many batches are handled. */
  saveSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.save()
    }, 500)
  }

  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.save()
  }

  private save(): void {
    for (const [kind, handledThrough] of this.sources) {
      const through = handledThrough()
      if (through) this.saved.checkpoints[kind] = through
    }
    mkdirSync(dirname(this.file), { recursive: true })
    const temporary = `${this.file}.tmp`
    writeFileSync(temporary, JSON.stringify(this.saved))
    renameSync(temporary, this.file) // atomic: a crash leaves the old or the new file
  }

  private read(): SavedMemory {
    const empty: SavedMemory = { checkpoints: {}, snapshots: {} }
    if (!existsSync(this.file)) return empty
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown
      if (!isJsonObject(parsed) || !isJsonObject(parsed.checkpoints) || !isJsonObject(parsed.snapshots))
        throw new Error('not a collector memory file')
      return parsed as unknown as SavedMemory
    } catch (error) {
      // A torn or foreign file costs a full relist (repeated events), never a crash loop.
      this.logger.warn(
        { err: error, file: this.file },
        'kube checkpoint unreadable; starting from a full list',
      )
      return empty
    }
  }
}
