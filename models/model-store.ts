import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ArgusError, errorMessage } from '../core/index.js'
import type { Tensorflow } from './tf-runtime.js'
import { WindowForecaster, type ForecasterArtifacts } from './window-forecaster.js'

export interface StoredModel {
  name: string
  version: number
  forecaster: WindowForecaster
}

export interface ModelStoreOptions {
  /** Folder holding one folder per model name, one per version inside it. */
  dir: string
  /** TensorFlow.js, loaded when a model is first read (loading it costs a moment and memory). */
  tensorflow: () => Promise<Tensorflow>
  /** Versions kept per model; older ones are deleted after a save. */
  keepVersions?: number
}

const FORMAT = 1
const NAME = /^[A-Za-z0-9._-]{1,200}$/

/**
 * Versioned models on disk: `<dir>/<name>/v<version>/` holds `meta.json` (shapes, scaling,
 * usual error, training facts), `model.json` (the network's topology and weight manifest) and
 * `weights.bin`. A version is written to a temporary folder and renamed into place, so a crash
 * mid-save never leaves a half model that a restart would load.
 */
export class ModelStore {
  private readonly keep: number

  constructor(private readonly options: ModelStoreOptions) {
    this.keep = options.keepVersions ?? 3
  }

  async save(name: string, forecaster: WindowForecaster): Promise<number> {
    const folder = this.folderOf(name)
    await mkdir(folder, { recursive: true })
    const version = ((await this.versions(name)).at(-1) ?? 0) + 1
    const artifacts = await forecaster.toArtifacts()
    const staging = join(folder, `.v${version}.${process.pid}.tmp`)
    await rm(staging, { recursive: true, force: true })
    await mkdir(staging)
    await writeFile(
      join(staging, 'meta.json'),
      JSON.stringify({ format: FORMAT, version, ...artifacts.meta }, null, 2),
    )
    await writeFile(
      join(staging, 'model.json'),
      JSON.stringify({
        modelTopology: artifacts.topology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }),
    )
    await writeFile(join(staging, 'weights.bin'), new Uint8Array(artifacts.weights))
    await rename(staging, join(folder, `v${version}`))
    for (const old of (await this.versions(name)).slice(0, -this.keep))
      await rm(join(folder, `v${old}`), { recursive: true, force: true })
    return version
  }

  /** The newest version of a model, or undefined when none was saved. */
  async loadLatest(name: string): Promise<StoredModel | undefined> {
    const version = (await this.versions(name)).at(-1)
    if (version === undefined) return undefined
    const dir = join(this.folderOf(name), `v${version}`)
    try {
      const meta = JSON.parse(
        await readFile(join(dir, 'meta.json'), 'utf8'),
      ) as ForecasterArtifacts['meta'] & {
        format: number
      }
      if (meta.format !== FORMAT) throw new Error(`format ${meta.format}, expected ${FORMAT}`)
      const model = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
        modelTopology: unknown
        weightsManifest: Array<{ weights: ForecasterArtifacts['weightSpecs'] }>
      }
      const weights = await readFile(join(dir, 'weights.bin'))
      const forecaster = await WindowForecaster.fromArtifacts(await this.options.tensorflow(), {
        meta,
        topology: model.modelTopology,
        weightSpecs: model.weightsManifest.flatMap((m) => m.weights),
        weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      })
      return { name, version, forecaster }
    } catch (error) {
      throw new ArgusError(
        'ARGUS_ERR_MODEL',
        `model ${name} v${version} in ${dir} cannot be loaded: ${errorMessage(error)}`,
        {
          cause: error,
        },
      )
    }
  }

  /** Saved versions of a model, oldest first. */
  async versions(name: string): Promise<number[]> {
    let entries: string[]
    try {
      entries = await readdir(this.folderOf(name))
    } catch {
      return []
    }
    return entries
      .map((e) => /^v(\d+)$/.exec(e)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
  }

  /** Names of the models saved so far. */
  async names(): Promise<string[]> {
    try {
      return (await readdir(this.options.dir)).filter((n) => NAME.test(n) && !n.startsWith('.'))
    } catch {
      return []
    }
  }

  private folderOf(name: string): string {
    if (!NAME.test(name))
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        `model name ${JSON.stringify(name)} is not a safe folder name`,
      )
    return join(this.options.dir, name)
  }
}
