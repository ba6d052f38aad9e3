import { DEAD_LETTER_HEADERS, errorMessage, isArgusError } from '../core/index.js'

/** The headers a dead-lettered message carries: its own, plus why and from where. */
export function deadLetterHeaders(failed: {
  headers?: Readonly<Record<string, string>> | undefined
  error: unknown
  topic: string
  partition: number
  offset: number
  group: string
  attempts: number
}): Record<string, string> {
  return {
    ...failed.headers,
    [DEAD_LETTER_HEADERS.errorCode]: isArgusError(failed.error) ? failed.error.code : 'ARGUS_ERR_HANDLER',
    [DEAD_LETTER_HEADERS.errorMessage]: errorMessage(failed.error).slice(0, 1000),
    [DEAD_LETTER_HEADERS.originalTopic]: failed.topic,
    [DEAD_LETTER_HEADERS.originalPartition]: String(failed.partition),
    [DEAD_LETTER_HEADERS.originalOffset]: String(failed.offset),
    [DEAD_LETTER_HEADERS.group]: failed.group,
    [DEAD_LETTER_HEADERS.attempts]: String(failed.attempts),
  }
}
