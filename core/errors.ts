/**
 * Every error code Argus raises, documented once. Codes are stable API: clients and
 * runbooks match on them, so rename only with a deprecation.
 */
export const ERROR_CODES = {
  ARGUS_ERR_CONFIG: 'configuration is invalid; the message names the field',
  ARGUS_ERR_BAD_INPUT: 'input from a client or source is malformed or fails its schema',
  ARGUS_ERR_PAYLOAD_TOO_LARGE: 'a request body is larger than the configured limit',
  ARGUS_ERR_OVERLOADED: 'a bounded buffer stayed full past its wait limit; retry later',
  ARGUS_ERR_STORAGE: 'the storage engine refused or failed a query',
  ARGUS_ERR_STORAGE_UNAVAILABLE: 'the storage engine could not be reached',
  ARGUS_ERR_BUS: 'the message bus failed an operation',
  ARGUS_ERR_PUBLISH_UNCONFIRMED:
    'the bus did not confirm a publish in time and it may still land; resend the same request, which is not stored twice',
  ARGUS_ERR_KUBE_API:
    'the Kubernetes API server refused or failed a request; details.status has its HTTP status',
  ARGUS_ERR_NOT_FOUND: 'the named object (an incident, a workload revision, a container) does not exist',
  ARGUS_ERR_CONFLICT:
    'the named object is not in a state that allows this (an action no longer waiting for approval)',
  ARGUS_ERR_HANDLER: 'a bus consumer handler failed',
  ARGUS_ERR_STOPPED: 'the component is stopping or stopped and accepts no more work',
  ARGUS_ERR_RETRY_EXHAUSTED: 'an operation kept failing until its retry budget ran out',
  ARGUS_ERR_TIMEOUT: 'an operation did not finish in time',
  ARGUS_ERR_MODEL: 'a learned model could not be trained (too little history), saved or loaded',
  ARGUS_ERR_INTERNAL: 'a bug: an invariant did not hold',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface ArgusErrorOptions {
  retriable?: boolean
  cause?: unknown
  /** Structured context for logs and API responses; never put secrets here. */
  details?: Record<string, unknown>
}

/** The one error base (kafkajs `KafkaJSError`, OTel `consumererror`): a code and whether retrying can help. */
export class ArgusError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: ArgusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ArgusError'
    this.code = code
    this.retriable = options.retriable ?? false
    this.details = options.details
  }
}

export function isArgusError(error: unknown): error is ArgusError {
  return error instanceof ArgusError
}

/** Unknown errors (network resets, driver errors) are presumed transient; ArgusErrors say for themselves. */
export function isRetriable(error: unknown): boolean {
  return isArgusError(error) ? error.retriable : true
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** `error` as an Error: a thrown value that is not one is wrapped (for rejections and causes). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
