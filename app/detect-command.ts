import { readFileSync, writeFileSync } from 'node:fs'
import { StreamingDetector, type Direction } from '../analyzers/metric-detector.js'
import { ArgusError } from '../core/index.js'

/**
 * `argus detect --input FILE.csv --output OUT.csv`: reads `timestamp,value` rows (a header line
 * first), writes `timestamp,value,anomaly_score` with one row per input row, each score computed
 * from the rows up to it only.
 */
export function runDetect(options: { input: string; output: string; direction?: string }): void {
  const direction = (options.direction ?? 'both') as Direction
  if (!['up', 'down', 'both'].includes(direction))
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `--direction must be up, down or both, got ${options.direction}`,
    )
  const lines = readFileSync(options.input, 'utf8').split(/\r?\n/)
  const header = (lines[0] ?? '').split(',').map((h) => h.trim())
  const timeColumn = header.indexOf('timestamp')
  const valueColumn = header.indexOf('value')
  if (timeColumn < 0 || valueColumn < 0)
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `${options.input}: the header must name timestamp and value columns`,
    )
  const detector = new StreamingDetector({ direction })
  const out = ['timestamp,value,anomaly_score']
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string
    if (line.trim() === '') continue
    const cells = line.split(',')
    const value = Number(cells[valueColumn])
    if (!Number.isFinite(value))
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        `${options.input} line ${n + 1}: value "${cells[valueColumn]}" is not a number`,
      )
    const ts = Date.parse(`${(cells[timeColumn] ?? '').trim().replace(' ', 'T')}Z`)
    const { score } = detector.update(value, Number.isFinite(ts) ? ts : undefined)
    out.push(`${cells[timeColumn]},${cells[valueColumn]},${score.toFixed(6)}`)
  }
  writeFileSync(options.output, `${out.join('\n')}\n`)
}
