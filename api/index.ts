export { createApiServer } from './server.js'
export type { ApiServerOptions } from './server.js'
export type { ReadinessCheck } from './routes/health.js'
export { parseTimeBound, parseTimeRange } from './time-range.js'
