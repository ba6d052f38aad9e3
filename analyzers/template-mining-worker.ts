/**
 * The template miner's thread (see template-mining-thread.ts): one miner, asked in order, so its
 * templates evolve exactly as they would on the main thread.
 */
import { parentPort } from 'node:worker_threads'
import { LogTemplateMiner } from './log-template-miner.js'
import type { MiningReply, MiningRequest } from './template-mining-thread.js'

const port = parentPort
if (!port) throw new Error('template-mining-worker runs as a worker thread')
const miner = new LogTemplateMiner()
port.on('message', ({ id, messages }: MiningRequest) => {
  const ids = new Array<string>(messages.length)
  for (let i = 0; i < messages.length; i++) ids[i] = miner.templateIdOf(messages[i] as string)
  const reply: MiningReply = { id, ids }
  port.postMessage(reply)
})
