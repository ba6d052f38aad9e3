import { randomUUID } from 'node:crypto'
import { ArgusError } from '../core/index.js'
import { matchesAll, parseMatcher, type LabelMatcher } from './label-matcher.js'

export interface Silence {
  id: string
  matchers: LabelMatcher[]
  startsAt: number
  endsAt: number
  createdBy: string
  comment: string
}

/** Silences as Alertmanager has them: matchers and a time span; an expired silence mutes nothing. */
export class Silences {
  private readonly silences = new Map<string, Silence>()

  add(input: {
    matchers: string[]
    startsAt: number
    endsAt: number
    createdBy: string
    comment: string
  }): Silence {
    if (input.matchers.length === 0)
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence needs at least one matcher')
    if (!(input.endsAt > input.startsAt))
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence must end after it starts')
    const matchers = input.matchers.map((m) => {
      try {
        return parseMatcher(m)
      } catch (error) {
        throw new ArgusError('ARGUS_ERR_BAD_INPUT', (error as Error).message)
      }
    })
    // A silence matching everything would be a kill switch for alerting: refuse it.
    if (matchesAll({}, matchers))
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        'a silence must not match alerts with no labels (it would mute everything)',
      )
    const silence: Silence = {
      id: randomUUID(),
      matchers,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      createdBy: input.createdBy,
      comment: input.comment,
    }
    this.silences.set(silence.id, silence)
    return silence
  }

  expire(id: string, now: number): void {
    const silence = this.silences.get(id)
    if (!silence) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no silence ${id}`)
    silence.endsAt = Math.min(silence.endsAt, now)
  }

  /** The active silences that mute these labels now. */
  muting(labels: Readonly<Record<string, string>>, now: number): Silence[] {
    return [...this.silences.values()].filter(
      (s) => s.startsAt <= now && now < s.endsAt && matchesAll(labels, s.matchers),
    )
  }

  list(): Silence[] {
    return [...this.silences.values()]
  }
}
