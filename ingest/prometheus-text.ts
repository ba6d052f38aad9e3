import { ArgusError } from '../core/index.js'

export interface PrometheusSample {
  /** Full series name as exposed: `x_bucket`, `x_sum`, `x_count` for histograms. */
  name: string
  labels: Record<string, string>
  value: number
  timestampMs?: number
  /** The family's `# TYPE`, lower-case; `untyped` when none was declared. */
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
}

const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY
    case '-Inf':
      return Number.NEGATIVE_INFINITY
    case 'NaN':
      return Number.NaN
    default: {
      const value = Number(text)
      if (text === '' || Number.isNaN(value)) throw new Error(`"${text}" is not a number`)
      return value
    }
  }
}

/** Reads `{a="x",b="y\"z"}` starting at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {}
  let i = start + 1
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++
    if (line[i] === '}') return [labels, i + 1]
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))
    if (!nameMatch) throw new Error(`bad label name at column ${i + 1}`)
    const name = nameMatch[0]
    i += name.length
    while (line[i] === ' ') i++
    if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected ="..." after label ${name}`)
    i += 2
    let value = ''
    for (;;) {
      const c = line[i]
      if (c === undefined) throw new Error(`unterminated value of label ${name}`)
      if (c === '"') break
      if (c === '\\') {
        const next = line[i + 1]
        value += next === 'n' ? '\n' : (next ?? '')
        i += 2
        continue
      }
      value += c
      i++
    }
    labels[name] = value
    i++
  }
}

/** The family a series belongs to, so `x_bucket` finds `# TYPE x histogram`. */
function familyType(name: string, types: Map<string, PrometheusSample['type']>): PrometheusSample['type'] {
  const direct = types.get(name)
  if (direct) return direct
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix)) {
      const family = types.get(name.slice(0, -suffix.length))
      if (family) return family
    }
  }
  return 'untyped'
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4), as kubelet's `/metrics/cadvisor`
 * and `/metrics/resource` serve it. Why not the npm parser most use (parse-prometheus-text-format
 * 1.1.1): it drops the labels, `_sum` and `_count` of labelled histograms and takes `x abc` as a
 * sample, which the tests here catch. Histograms and summaries come out as their series (`_bucket`
 * with `le`, `_sum`, `_count`, quantiles) with every label kept. Errors name the line.
 */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const types = new Map<string, PrometheusSample['type']>()
  const samples: PrometheusSample[] = []
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line)
      if (type && TYPES.has(type[2] as string))
        types.set(type[1] as string, type[2] as PrometheusSample['type'])
      continue
    }
    try {
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)
      if (!nameMatch) throw new Error('no metric name')
      const name = nameMatch[0]
      let i = name.length
      let labels: Record<string, string> = {}
      if (line[i] === '{') [labels, i] = parseLabels(line, i)
      const [valueText, timestampText, extra] = line.slice(i).trim().split(/\s+/)
      if (extra !== undefined) throw new Error('trailing text after the timestamp')
      const sample: PrometheusSample = {
        name,
        labels,
        value: parseValue(valueText ?? ''),
        type: familyType(name, types),
      }
      if (timestampText !== undefined) {
        const timestampMs = Number(timestampText)
        if (!Number.isInteger(timestampMs)) throw new Error(`bad timestamp "${timestampText}"`)
        sample.timestampMs = timestampMs
      }
      samples.push(sample)
    } catch (error) {
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        `metrics line ${n + 1}: ${(error as Error).message}: ${line.slice(0, 120)}`,
      )
    }
  }
  return samples
}
