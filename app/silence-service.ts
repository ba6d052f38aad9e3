import { Silences } from '../alerts/silences.js'
import type { SilenceService } from '../api/routes/alerts.js'
import type { Bus } from '../bus/index.js'
import { ArgusError, TOPICS, parseDuration, type Silence } from '../core/index.js'
import type { Storage } from '../storage/index.js'

/**
 * Silences made through the API: validated, stored (so a restarted alerter reads them back), then
 * published so every running alerter applies them at once. Storage first: a silence the caller was
 * told about is never only on the bus.
 */
export function createSilenceService(options: {
  storage: () => Storage
  bus: Bus
  now?: () => number
}): SilenceService {
  const now = options.now ?? Date.now
  async function save(silence: Silence): Promise<Silence> {
    await options.storage().alerts.saveSilence(silence)
    await options.bus.publish(TOPICS.silences, [{ key: silence.id, value: silence }])
    return silence
  }
  return {
    async create(request) {
      const at = now()
      const startsAt = request.startsAt ?? at
      let endsAt = request.endsAt
      if (request.duration !== undefined) {
        if (endsAt !== undefined)
          throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'give endsAt or duration, not both')
        endsAt = startsAt + (parseDuration(request.duration) ?? 0)
      }
      if (endsAt === undefined)
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence needs endsAt or a duration (e.g. "2h")')
      const silence = Silences.create(
        {
          matchers: request.matchers,
          startsAt,
          endsAt,
          createdBy: request.createdBy,
          comment: request.comment,
        },
        at,
      )
      return save(silence)
    },
    async expire(id) {
      const known = await options.storage().alerts.silence(id)
      if (!known) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no silence ${id}`)
      return save(Silences.expired(known, now()))
    },
  }
}
