import type * as Tf from '@tensorflow/tfjs'

export type Tensorflow = typeof Tf

export interface TensorflowRuntime {
  tf: Tensorflow
  /** `tensorflow` (tfjs-node, native), `wasm` or `cpu` (pure JavaScript). */
  backend: string
}

let loading: Promise<TensorflowRuntime> | undefined

/**
 * Loads TensorFlow.js once per process, on the fastest backend present: the native binding of
 * `@tensorflow/tfjs-node` when a user has installed it (it cannot be a dependency: its install
 * step downloads libtensorflow), else WebAssembly, else plain JavaScript.
 */
export function loadTensorflow(): Promise<TensorflowRuntime> {
  loading ??= (async () => {
    const native = await importOptional('@tensorflow/tfjs-node')
    if (native) {
      const tf = native as Tensorflow
      await tf.ready()
      return { tf, backend: tf.getBackend() }
    }
    const tf = await import('@tensorflow/tfjs')
    try {
      await import('@tensorflow/tfjs-backend-wasm')
      if (await tf.setBackend('wasm')) {
        await tf.ready()
        return { tf, backend: 'wasm' }
      }
    } catch {
      // No usable WebAssembly backend: the JavaScript one below is slower but always works.
    }
    await tf.setBackend('cpu')
    await tf.ready()
    return { tf, backend: 'cpu' }
  })()
  return loading
}

async function importOptional(name: string): Promise<unknown> {
  try {
    // A name in a variable: neither TypeScript nor a bundler may require the optional package.
    return await import(name)
  } catch {
    return undefined
  }
}
