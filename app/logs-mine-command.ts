import { createInterface } from 'node:readline'
import { LogTemplateMiner } from '../analyzers/log-template-miner.js'

/**
 * `argus logs mine`: one log message per line on stdin, `groupId<TAB>template` per line on
 * stdout, in order. Each line joins a group online (from the lines before it only). By default
 * the output is written at the end and names each line's final group and template: groups that
 * later lines proved to be one event (they differed in a variable word) are reported as one, as
 * a Drain parser reports its clusters' final templates. `--streaming` writes each line at once
 * with its group and template as of that line.
 */
export async function runLogsMine(options: { similarity?: string; streaming?: boolean }): Promise<void> {
  const similarity = options.similarity === undefined ? undefined : Number(options.similarity)
  if (similarity !== undefined && !(similarity > 0 && similarity <= 1))
    throw new Error(`--similarity must be in (0, 1], got ${options.similarity}`)
  const miner = new LogTemplateMiner(similarity === undefined ? {} : { similarity })
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
  if (options.streaming) {
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
    return
  }
  const ids: string[] = []
  for await (const line of lines) ids.push(miner.add(line).id)
  const templates = new Map<string, string>()
  let out: string[] = []
  for (const id of ids) {
    const group = miner.resolve(id)
    let template = templates.get(group)
    if (template === undefined) {
      template = miner.template(group) ?? ''
      templates.set(group, template)
    }
    out.push(`${group}\t${template}`)
    if (out.length >= 1000) {
      process.stdout.write(`${out.join('\n')}\n`)
      out = []
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`)
}
