import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { ArgusError, sleep } from '../core/index.js'
import { FAULT_KINDS, createScenario, isFaultKind } from '../sim/index.js'
import { parseDuration } from '../core/index.js'

export interface SimFlags {
  scenario: string
  speed: string
  seed: string
  duration: string
  start?: string
  faultAfter?: string
  faultDuration?: string
  target?: string
  output: string
}

const DEFAULT_START = '2026-01-01T00:00:00Z'

function bad(message: string): never {
  throw new ArgusError('ARGUS_ERR_CONFIG', message)
}

function durationFlag(name: string, value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined || ms <= 0) bad(`--${name} must be a duration like 90s, 15m or 1h; got "${value}"`)
  return ms
}

/**
 * `argus sim`: replays a scenario as NDJSON, one raw record per line
 * (`{"type":"log"|"event"|"object"|"scrape"|"flow","ts":...,"data":...}`), faster than real time.
 * The ground truth goes to stderr first, timing figures last.
 */
export async function runSimCommand(flags: SimFlags, stderr: Writable = process.stderr): Promise<void> {
  if (flags.scenario !== 'none' && !isFaultKind(flags.scenario))
    bad(`--scenario must be none or one of ${FAULT_KINDS.join(', ')}; got "${flags.scenario}"`)
  const speed = flags.speed === 'max' ? 0 : Number(flags.speed)
  if (!Number.isFinite(speed) || speed < 0)
    bad(`--speed must be a positive number or "max"; got "${flags.speed}"`)
  if (!/^\d+$/.test(flags.seed)) bad(`--seed must be a whole number; got "${flags.seed}"`)
  const durationMs = durationFlag('duration', flags.duration)
  const startText = flags.start ?? DEFAULT_START
  const startTs = startText === 'now' ? Math.floor(Date.now() / 10_000) * 10_000 : Date.parse(startText)
  if (Number.isNaN(startTs)) bad(`--start must be RFC 3339 or "now"; got "${startText}"`)

  const scenario = createScenario({
    scenario: flags.scenario,
    seed: Number(flags.seed),
    startTs,
    durationMs,
    ...(flags.faultAfter && { faultAfterMs: durationFlag('fault-after', flags.faultAfter) }),
    ...(flags.faultDuration && { faultDurationMs: durationFlag('fault-duration', flags.faultDuration) }),
    ...(flags.target && { target: flags.target }),
  })
  stderr.write(`${JSON.stringify({ groundTruth: scenario.truth ?? null })}\n`)

  const out: Writable = flags.output === '-' ? process.stdout : createWriteStream(flags.output)
  const write = async (line: string): Promise<void> => {
    if (!out.write(line)) await once(out, 'drain')
  }
  const started = performance.now()
  let records = 0
  let steps = 0
  for (const tick of scenario.ticks()) {
    const stepStarted = performance.now()
    const lines: string[] = []
    const add = (type: string, data: unknown): void => {
      lines.push(JSON.stringify({ type, ts: tick.ts, data }))
    }
    for (const data of tick.objectUpdates) add('object', data)
    for (const data of tick.events) add('event', data)
    for (const data of tick.logs) add('log', data)
    for (const data of tick.scrapes) add('scrape', data)
    for (const data of tick.flows) add('flow', data)
    records += lines.length
    steps++
    if (lines.length > 0) await write(`${lines.join('\n')}\n`)
    if (speed > 0) await sleep(Math.max(0, 10_000 / speed - (performance.now() - stepStarted)))
  }
  if (out !== process.stdout) {
    out.end()
    await once(out, 'finish')
  }
  const seconds = (performance.now() - started) / 1000
  stderr.write(
    `${JSON.stringify({ simulatedMs: durationMs, steps, records, elapsedSeconds: Number(seconds.toFixed(3)), timesRealTime: Math.round(durationMs / 1000 / seconds) })}\n`,
  )
}
