import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { counter, errorMessage, type Component, type Logger, type Registry } from '../core/index.js'
import type { RawIntake } from './raw-intake.js'

export interface FlowLogTailerOptions {
  intake: RawIntake
  logger: Logger
  metrics: Registry
  /** Calico flow log files, e.g. /var/log/calico/flowlogs/flows.log (JSON lines). */
  files: readonly string[]
  /** Where each file's read position is kept, so a restart neither repeats nor skips. */
  positionsFile: string
  pollMs?: number
  /** Bytes read per poll and file at most: a huge backlog is worked through in bounded steps. */
  maxReadBytes?: number
}

interface Position {
  inode: number
  offset: number
}

/**
 * Tails Calico flow log files (JSON lines) like fluent-bit's tail input: reads what was appended,
 * keeps a partial last line for the next poll, follows rotation (a new inode, or a file shorter
 * than the position, starts from the beginning) and saves each file's position only after its
 * records are on the bus. Lines that are not flow records are counted and skipped.
 */
export function createFlowLogTailer(options: FlowLogTailerOptions): Component {
  const logger = options.logger.child({ component: 'flow-log-tailer' })
  const skipped = counter(
    options.metrics,
    'argus_flow_log_lines_skipped_total',
    'Flow log lines that were not JSON records',
  )
  const positions = readPositions(options.positionsFile)
  let timer: NodeJS.Timeout | undefined
  let polling: Promise<void> = Promise.resolve()
  let stopped = false

  function savePositions(): void {
    mkdirSync(dirname(options.positionsFile), { recursive: true })
    writeFileSync(`${options.positionsFile}.tmp`, JSON.stringify(positions))
    renameSync(`${options.positionsFile}.tmp`, options.positionsFile)
  }

  async function pollFile(file: string): Promise<void> {
    if (!existsSync(file)) return
    const stat = statSync(file)
    let position = positions[file]
    if (!position || position.inode !== stat.ino || stat.size < position.offset) {
      if (position) logger.info({ file }, 'flow log rotated or truncated; reading it from the start')
      position = { inode: stat.ino, offset: 0 }
    }
    if (stat.size === position.offset) return
    const length = Math.min(stat.size - position.offset, options.maxReadBytes ?? 8 * 1024 * 1024)
    const buffer = Buffer.alloc(length)
    const fd = openSync(file, 'r')
    try {
      readSync(fd, buffer, 0, length, position.offset)
    } finally {
      closeSync(fd)
    }
    const lastNewline = buffer.lastIndexOf(0x0a)
    if (lastNewline < 0) return // a partial line: wait for its end
    const records: unknown[] = []
    for (const line of buffer.subarray(0, lastNewline).toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      try {
        records.push(JSON.parse(line))
      } catch {
        skipped.inc()
      }
    }
    if (records.length > 0) {
      const result = await options.intake.calicoFlows(records)
      if (result.rejected.length > 0) skipped.inc(result.rejected.length)
    }
    positions[file] = { inode: position.inode, offset: position.offset + lastNewline + 1 }
    savePositions()
  }

  async function pollAll(): Promise<void> {
    for (const file of options.files) {
      try {
        await pollFile(file)
      } catch (error) {
        // The bus was full or the file vanished mid-read: the position did not move; next poll retries.
        logger.warn({ file, err: errorMessage(error) }, 'reading the flow log failed; will retry')
      }
    }
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(() => {
      polling = pollAll().finally(schedule)
    }, options.pollMs ?? 1_000)
  }

  return {
    name: 'flow-log-tailer',
    start() {
      logger.info({ files: options.files }, 'tailing Calico flow logs')
      polling = pollAll().finally(schedule)
      return Promise.resolve()
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await polling
    },
  }
}

function readPositions(file: string): Record<string, Position> {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Position>) : {}
  } catch {
    return {} // a torn file re-reads the logs once; flows are aggregated, a repeat is visible but bounded
  }
}
