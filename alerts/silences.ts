import { randomUUID } from 'node:crypto'
import { ArgusError, type Silence } from '../core/index.js'
import { matchesAll, parseMatcher, type LabelMatcher } from './label-matcher.js'

export interface NewSilence {
  matchers: string[]
  startsAt: number
  endsAt: number
  createdBy: string
  comment: string
}

/** Expired silences are kept this long (for the API's history), as Alertmanager keeps them 5 days. */
const KEEP_EXPIRED_MS = 5 * 86_400_000
const MAX_SILENCES = 10_000

/**
 * Silences as Alertmanager has them: matchers and a time span; an expired silence mutes nothing.
 * Created through the API and shared as versions (`updatedAt`): the newest version of an id wins,
 * so the same silence arriving from storage and from the bus in either order ends the same.
 */
export class Silences {
  private readonly silences = new Map<string, { silence: Silence; matchers: LabelMatcher[] }>()

  /** Validates a new silence; refuses what could not be meant (no matchers, endless, muting everything). */
  static create(input: NewSilence, now: number): Silence {
    if (input.matchers.length === 0)
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence needs at least one matcher')
    if (!(input.endsAt > input.startsAt))
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence must end after it starts')
    if (!(input.endsAt > now)) throw new ArgusError('ARGUS_ERR_BAD_INPUT', 'a silence must end in the future')
    const matchers = parseAll(input.matchers)
    // A silence matching everything would be a kill switch for alerting: refuse it.
    if (matchesAll({}, matchers))
      throw new ArgusError(
        'ARGUS_ERR_BAD_INPUT',
        'a silence must not match alerts with no labels (it would mute everything)',
      )
    return { id: randomUUID(), ...input, updatedAt: now }
  }

  /** Creates and applies: the in-process shortcut (tests, one alerter). */
  add(input: NewSilence, now = Date.now()): Silence {
    const silence = Silences.create(input, now)
    this.apply(silence, now)
    return silence
  }

  /** Takes a silence version; an older version than the one held is ignored. */
  apply(silence: Silence, now = Date.now()): void {
    const held = this.silences.get(silence.id)
    if (held && held.silence.updatedAt > silence.updatedAt) return
    let matchers: LabelMatcher[]
    try {
      matchers = parseAll(silence.matchers)
    } catch {
      return // validated when created; a version that no longer parses mutes nothing
    }
    this.silences.set(silence.id, { silence, matchers })
    this.prune(now)
  }

  /** The expired version of a silence (ends now, unless it ended already): a newer version of it. */
  static expired(silence: Silence, now: number): Silence {
    return {
      ...silence,
      startsAt: Math.min(silence.startsAt, now),
      endsAt: Math.min(silence.endsAt, now),
      updatedAt: Math.max(now, silence.updatedAt + 1),
    }
  }

  expire(id: string, now: number): Silence {
    const silence = this.silences.get(id)?.silence
    if (!silence) throw new ArgusError('ARGUS_ERR_NOT_FOUND', `no silence ${id}`)
    const version = Silences.expired(silence, now)
    this.apply(version, now)
    return version
  }

  /** The active silences that mute these labels now. */
  muting(labels: Readonly<Record<string, string>>, now: number): Silence[] {
    const out: Silence[] = []
    for (const { silence, matchers } of this.silences.values())
      if (silence.startsAt <= now && now < silence.endsAt && matchesAll(labels, matchers)) out.push(silence)
    return out
  }

  list(): Silence[] {
    return [...this.silences.values()].map((s) => s.silence)
  }

  private prune(now: number): void {
    for (const [id, { silence }] of this.silences)
      if (silence.endsAt < now - KEEP_EXPIRED_MS) this.silences.delete(id)
    // Bounded: beyond the cap the silences that ended first go (active ones end later).
    if (this.silences.size > MAX_SILENCES) {
      const byEnd = [...this.silences.values()].sort((a, b) => a.silence.endsAt - b.silence.endsAt)
      for (const { silence } of byEnd.slice(0, this.silences.size - MAX_SILENCES))
        this.silences.delete(silence.id)
    }
  }
}

function parseAll(texts: readonly string[]): LabelMatcher[] {
  return texts.map((m) => {
    try {
      return parseMatcher(m)
    } catch (error) {
      throw new ArgusError('ARGUS_ERR_BAD_INPUT', (error as Error).message)
    }
  })
}
