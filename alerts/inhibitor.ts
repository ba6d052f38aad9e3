import { matchesAll, parseMatcher, type LabelMatcher } from './label-matcher.js'

export interface InhibitRuleConfig {
  sourceMatchers: string[]
  targetMatchers: string[]
  /** Labels that must have the same value in source and target (a missing label is the empty value). */
  equal?: string[]
}

interface InhibitRule {
  source: LabelMatcher[]
  target: LabelMatcher[]
  equal: string[]
}

/**
 * Inhibition as in Alertmanager: while an alert matching a rule's source fires, alerts matching
 * its target with the same `equal` labels are muted (a node down mutes the pods on it). An alert
 * never inhibits itself.
 */
export class Inhibitor {
  private readonly rules: InhibitRule[]

  constructor(rules: readonly InhibitRuleConfig[]) {
    this.rules = rules.map((r) => ({
      source: r.sourceMatchers.map(parseMatcher),
      target: r.targetMatchers.map(parseMatcher),
      equal: r.equal ?? [],
    }))
  }

  /** Whether `labels` is muted by one of the firing alerts (`firing`, each with its fingerprint). */
  inhibited(
    labels: Readonly<Record<string, string>>,
    fingerprint: string,
    firing: ReadonlyArray<{ fingerprint: string; labels: Readonly<Record<string, string>> }>,
  ): boolean {
    return this.rules.some(
      (rule) =>
        matchesAll(labels, rule.target) &&
        firing.some(
          (source) =>
            source.fingerprint !== fingerprint &&
            matchesAll(source.labels, rule.source) &&
            rule.equal.every((name) => (source.labels[name] ?? '') === (labels[name] ?? '')),
        ),
    )
  }
}
