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
  const out = lineWriter()
  if (options.streaming) {
    for await (const line of lines) {
      const mined = miner.add(line)
      out.write(`${mined.id}\t${mined.template}`)
    }
  } else {
    const ids: string[] = []
    for await (const line of lines) ids.push(miner.templateIdOf(line))
    const templates = new Map<string, string>()
    for (const id of ids) {
      const group = miner.resolve(id)
      let template = templates.get(group)
      if (template === undefined) {
        template = miner.template(group) ?? ''
        templates.set(group, template)
      }
      out.write(`${group}\t${template}`)
    }
  }
  out.end()
}

/** Output lines to stdout, a thousand per write. */
function lineWriter(): { write(line: string): void; end(): void } {
  let pending: string[] = []
  const flush = (): void => {
    if (pending.length > 0) process.stdout.write(`${pending.join('\n')}\n`)
    pending = []
  }
  return {
    write(line) {
      pending.push(line)
      if (pending.length >= 1000) flush()
    },
    end: flush,
  }
}
