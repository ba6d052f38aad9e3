import { createLogger, type Logger } from '../../core/index.js'

export const quietLogger = (): Logger => createLogger({ level: 'silent' })
