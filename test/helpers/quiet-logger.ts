import { createLogger, type Logger } from '../../core/index.js'

export const quietLogger = (): Logger =>
  createLogger({ level: (process.env.ARGUS_TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent' })
