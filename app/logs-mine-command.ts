import { createInterface } from 'node:readline'
import { LogTemplateMiner } from '../analyzers/log-template-miner.js'

/**
 * `argus logs mine`: one log message per line on stdin, `groupId<TAB>template` per line on
 * stdout, in order, each assigned online (from the lines before it only). The template shown is
 * the group's as of that line; it may generalise later, the id does not change.
 */
export async function runLogsMine(options: { similarity?: string }): Promise<void> {
  const similarity = options.similarity === undefined ? undefined : Number(options.similarity)
  if (similarity !== undefined && !(similarity > 0 && similarity <= 1))
    throw new Error(`--similarity must be in (0, 1], got ${options.similarity}`)
  const miner = new LogTemplateMiner(similarity === undefined ? {} : { similarity })
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  let out: string[] = []
  for await (const line of lines) {
    const mined = miner.add(line)
    out.push(`${mined.id}\t${mined.template}`)
    if (out.length >= 1000) {
      process.stdout.write(`${out.join('\n')}\n`)
      out = []
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`)
}
