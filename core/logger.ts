import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger } from 'pino'

/** Field names whose values are never logged (tokens, passwords, webhook secrets). */
const REDACTED_PATHS = [
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'config.clickhouse.password',
]

export function createLogger(options: { level: LevelWithSilent; name?: string }): Logger {
  return pino({
    name: options.name ?? 'argus',
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  })
}
