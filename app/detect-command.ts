import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { StreamingDetector, type Direction } from '../analyzers/metric-detector.js'
import { ArgusError } from '../core/index.js'
import { loadTensorflow, type Tensorflow, WindowForecaster } from '../models/index.js'

/**
 * `argus detect --input FILE.csv --output OUT.csv`: reads `timestamp,value` rows (a header line
 * first), writes `timestamp,value,anomaly_score` with one row per input row, each score computed
 * from the rows up to it only. With a directory as input, scores every `.csv` under it into the
 * same relative paths under the output directory, in one process (a corpus in seconds, not one
 * process start per file).
 */
export async function runDetect(options: {
  input: string
  output: string
  direction?: string
  model?: boolean
}): Promise<void> {
  const direction = (options.direction ?? 'both') as Direction
  if (!['up', 'down', 'both'].includes(direction))
    throw new ArgusError(
      'ARGUS_ERR_BAD_INPUT',
      `--direction must be up, down or both, got ${options.direction}`,
    )
  if (!existsSync(options.input))
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `${options.input}: no such file or directory`)
  const tf = options.model === false ? undefined : (await loadTensorflow()).tf
  const score = async (file: string): Promise<string> => {
    const series = readSeries(file)
    return scoreSeries(series, direction, tf && (await forecastDeviations(tf, series.values)))
  }
  if (!statSync(options.input).isDirectory()) {
    writeFileSync(options.output, await score(options.input))
    return
  }
  const files = csvFilesUnder(options.input)
  if (files.length === 0)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `${options.input}: no .csv files in this directory`)
  for (const file of files) {
    const target = join(options.output, relative(options.input, file))
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, await score(file))
  }
}

interface Series {
  /** The input's data lines, as they were (the output repeats their timestamp and value). */
  rows: Array<{ time: string; value: string }>
  values: number[]
  timestamps: Array<number | undefined>
}

function readSeries(file: string): Series {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/)
  const header = (lines[0] ?? '').split(',').map((h) => h.trim())
  const timeColumn = header.indexOf('timestamp')
  const valueColumn = header.indexOf('value')
  if (timeColumn < 0 || valueColumn < 0)
    throw new ArgusError('ARGUS_ERR_BAD_INPUT', `${file}: the header must name timestamp and value columns`)
  const series: Series = { rows: [], values: [], timestamps: [] }
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string
    if (line.trim() === '') continue
    const cells = line.split(',')
    const text = cells[valueColumn] ?? ''
    const value = Number(text)
    if (text.trim() === '' || !Number.isFinite(value))
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', `${file} line ${n + 1}: value "${text}" is not a number`)
    const time = cells[timeColumn] ?? ''
    const ts = Date.parse(`${time.trim().replace(' ', 'T')}Z`)
    series.rows.push({ time, value: text })
    series.values.push(value)
    series.timestamps.push(Number.isFinite(ts) ? ts : undefined)
  }
  return series
}

function scoreSeries(series: Series, direction: Direction, deviations?: Array<number | undefined>): string {
  const detector = new StreamingDetector({ direction })
  const out = ['timestamp,value,anomaly_score']
  series.rows.forEach((row, i) => {
    const { score } = detector.update(series.values[i] as number, series.timestamps[i], deviations?.[i])
    out.push(`${row.time},${row.value},${score.toFixed(6)}`)
  })
  return `${out.join('\n')}\n`
}

function csvFilesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.csv'))
    .map((name) => join(directory, name))
    .filter((path) => statSync(path).isFile())
    .sort()
}

/** Rows before the first training, and the factor between retrainings (500, 2,000, 8,000, ...). */
const FIRST_TRAINING_ROWS = 500
const RETRAIN_GROWTH = 4
const WINDOW = 12
/**
 * Gradient steps per training, whatever the history's length: a longer history gets fewer passes
 * over it, so training costs about the same each time (13 passes at 500 rows, 2 at 4,000).
 */
const TRAINING_STEPS = 100
const BATCH = 64

/**
 * The learned forecaster's deviation for each row (undefined where it has none): trained first
 * on the first 500 rows and again each time the history quadruples, each model scoring only the rows
 * after its training data (so a row's deviation comes from rows before it and nothing after). Its
 * deviation counts only where its held-out error beats the naive forecast's by a margin: on series
 * it cannot predict it would only add noise (measured on the NAB development split: without that
 * rule the model cost 6.6 points).
 */
async function forecastDeviations(tf: Tensorflow, values: number[]): Promise<Array<number | undefined>> {
  const rows = values.map((v) => [v])
  const deviations: Array<number | undefined> = new Array<number | undefined>(rows.length).fill(undefined)
  for (let trainedOn = FIRST_TRAINING_ROWS; trainedOn < rows.length; trainedOn *= RETRAIN_GROWTH) {
    const history = rows.slice(0, trainedOn)
    const epochs = Math.max(1, Math.min(20, Math.round((TRAINING_STEPS * BATCH) / history.length)))
    const forecaster = await WindowForecaster.train(tf, ['value'], history, {
      window: WINDOW,
      epochs,
      batchSize: BATCH,
    })
    try {
      if (!forecaster.helps(0)) continue
      const until = Math.min(rows.length, trainedOn * RETRAIN_GROWTH)
      forecaster.surpriseEach(rows, trainedOn, until).forEach((d, k) => (deviations[trainedOn + k] = d[0]))
    } finally {
      forecaster.dispose()
    }
  }
  return deviations
}
