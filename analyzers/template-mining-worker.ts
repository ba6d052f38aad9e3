/**
 * The template miner's thread (see template-mining-thread.ts): one miner, asked in order, so its
 * templates evolve exactly as they would on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { LogTemplateMiner } from './log-template-miner.js'
import type { MiningReply, MiningRequest, MiningThreadData } from './template-mining-thread.js'

const port = parentPort
if (!port) throw new Error('template-mining-worker runs as a worker thread')
const { maxNumberedIds } = workerData as MiningThreadData
const miner = new LogTemplateMiner()
/** The number each template id has in replies; the main thread holds the same list. */
const numbers = new Map<string, number>()
port.on('message', ({ id, messages }: MiningRequest) => {
  const renumber = numbers.size >= maxNumberedIds
  if (renumber) numbers.clear()
  const numbered = new Uint32Array(messages.length)
  const added: string[] = []
  for (let i = 0; i < messages.length; i++) {
    const templateId = miner.templateIdOf(messages[i] as string)
    let number = numbers.get(templateId)
    if (number === undefined) {
      number = numbers.size
      numbers.set(templateId, number)
      added.push(templateId)
    }
    numbered[i] = number
  }
  const reply: MiningReply = { id, numbers: numbered, added, renumber }
  port.postMessage(reply, [numbered.buffer])
})
