export { buildCli, main } from './cli.js'
export { createRuntime } from './runtime.js'
export type { Runtime } from './runtime.js'
