import { Worker } from 'node:worker_threads'

/**
 * Starts a worker thread on a TypeScript module and resolves once it is online. The worker
 * registers tsx's loader, as bin/argus.js does, before it loads its entry: a worker thread does not
 * inherit the main thread's loader.
 */
export async function startTypeScriptWorker(
  entry: URL,
  options: { name: string; workerData: unknown },
): Promise<Worker> {
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`
  const worker = new Worker(boot, { eval: true, name: options.name, workerData: options.workerData })
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve)
    worker.once('error', reject)
  })
  return worker
}
