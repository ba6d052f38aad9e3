import { ArgusError } from '../core/index.js'

export type MatchType = '=' | '!=' | '=~' | '!~'

/** One Alertmanager matcher: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export interface LabelMatcher {
  name: string
  type: MatchType
  value: string
  /** Anchored, as Alertmanager anchors regex matchers. */
  regex?: RegExp
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*$/

/** Parses `severity="critical"`, `namespace=~"shop|pay"`, ...; an invalid one is a config error naming it. */
export function parseMatcher(text: string): LabelMatcher {
  const match = MATCHER.exec(text)
  if (!match)
    throw new ArgusError(
      'ARGUS_ERR_CONFIG',
      `matcher ${JSON.stringify(text)} is not name=value, name!=value, name=~regex or name!~regex`,
    )
  const [, name, type, quoted, bare] = match as unknown as [
    string,
    string,
    MatchType,
    string | undefined,
    string | undefined,
  ]
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '')
  const matcher: LabelMatcher = { name, type, value }
  if (type === '=~' || type === '!~') {
    try {
      matcher.regex = new RegExp(`^(?:${value})$`)
    } catch (error) {
      throw new ArgusError('ARGUS_ERR_CONFIG', `matcher ${JSON.stringify(text)}: ${(error as Error).message}`)
    }
  }
  return matcher
}

/** A missing label matches as the empty string, as in Alertmanager. */
export function matchesAll(
  labels: Readonly<Record<string, string>>,
  matchers: readonly LabelMatcher[],
): boolean {
  return matchers.every((m) => {
    const value = labels[m.name] ?? ''
    switch (m.type) {
      case '=':
        return value === m.value
      case '!=':
        return value !== m.value
      case '=~':
        return m.regex?.test(value) ?? false
      case '!~':
        return !(m.regex?.test(value) ?? false)
    }
  })
}

export function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`
}
