import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isArgusError, type ErrorCode, type Logger } from '../core/index.js'

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ARGUS_ERR_BAD_INPUT: 400,
  ARGUS_ERR_NOT_FOUND: 404,
  ARGUS_ERR_CONFLICT: 409,
  ARGUS_ERR_CONFIG: 400,
  ARGUS_ERR_PAYLOAD_TOO_LARGE: 413,
  ARGUS_ERR_OVERLOADED: 503,
  ARGUS_ERR_PUBLISH_UNCONFIRMED: 503,
  ARGUS_ERR_STOPPED: 503,
  ARGUS_ERR_STORAGE_UNAVAILABLE: 503,
  ARGUS_ERR_TIMEOUT: 504,
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

interface ValidationIssue {
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

/** Ajv messages name no field for unknown properties; say which one. */
function describeValidation(context: string | undefined, issues: ValidationIssue[]): string {
  return issues
    .map((issue) => {
      const where = `${context ?? 'request'}${(issue.instancePath ?? '').replaceAll('/', '.')}`
      if (issue.params && 'additionalProperty' in issue.params)
        return `${where}: unknown field "${String(issue.params.additionalProperty)}"`
      return `${where} ${issue.message ?? 'is invalid'}`
    })
    .join('; ')
}

/** One error shape for every route: `{ error: { code, message } }` with a fitting status. */
export function createErrorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    let status: number
    let body: ErrorBody
    if (isArgusError(error)) {
      status = (error.details?.status as number | undefined) ?? STATUS_BY_CODE[error.code] ?? 500
      body = { error: { code: error.code, message: error.message } }
      if (status === 503) void reply.header('retry-after', '5')
    } else if (error.validation) {
      status = 400
      body = {
        error: {
          code: 'ARGUS_ERR_BAD_INPUT',
          message: describeValidation(error.validationContext, error.validation),
        },
      }
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413
      body = { error: { code: 'ARGUS_ERR_PAYLOAD_TOO_LARGE', message: error.message } }
    } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415
      body = { error: { code: 'ARGUS_ERR_BAD_INPUT', message: error.message } }
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode
      body = { error: { code: 'ARGUS_ERR_BAD_INPUT', message: error.message } }
    } else {
      status = 500
      body = { error: { code: 'ARGUS_ERR_INTERNAL', message: 'internal error; see the server log' } }
    }
    if (status >= 500)
      logger.error({ err: error, method: request.method, url: request.url }, 'request failed')
    else logger.debug({ err: error, method: request.method, url: request.url, status }, 'request rejected')
    void reply.code(status).send(body)
  }
}
