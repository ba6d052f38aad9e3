/**
 * Online log template mining with Drain (He et al., ICWS 2017): a fixed-depth prefix tree over
 * (token count, first tokens) leads to a few candidate templates; the message joins the most
 * similar one if enough tokens agree, and differing positions become `<*>`. One pass, no
 * look-ahead, constant work per message; memory is bounded by `maxTemplates` (least recently
 * seen templates are forgotten first).
 *
 * Variables are masked before matching with patterns that hold for logs in general (numbers,
 * hex, IP addresses and ports, UUIDs, paths with digits), never per-system rules; upper-case state
 * names are never variables.
 *
 * A plain word (no digits) is a constant until proven variable: messages that differ from a
 * template only in words start a template of their own, and once `variableAfter` different words
 * have been seen in those places (user names, hosts) the templates merge into one with `<*>`
 * there. `stored as bytes` / `stored as values` or `Link ok` / `Link error` stay two events.
 */

import { setBounded } from '../core/index.js'
import { hasDigit, isDeviceName, tokenize, WILDCARD } from './log-tokenizer.js'

export interface MinedTemplate {
  /**
   * Stable for the template's life, also as it generalises: a hash of the template as first seen,
   * so processes and restarts that meet the same event first in the same form agree on its id.
   */
  id: string
  template: string
  /** Messages matched so far. */
  count: number
  /** True when this message created the template. */
  isNew: boolean
  /**
   * Templates that this message proved to be one event with this one (they differed only in a
   * variable word): their ids now resolve to `id` (see `resolve`).
   */
  absorbed?: string[]
}

export interface LogTemplateMinerOptions {
  /** Share of tokens that must agree to join a template (0..1). */
  similarity?: number
  /** Prefix tokens used to route in the tree (Drain's depth minus the length layer). */
  prefixDepth?: number
  /** Children per tree node before new prefixes share a `<*>` branch. */
  maxChildren?: number
  maxTemplates?: number
  /** Different words seen in the same places before those places become `<*>` (2 or more). */
  variableAfter?: number
}

interface Cluster {
  id: string
  tokens: string[]
  count: number
  lastSeen: number
}

interface TreeNode {
  children: Map<string, TreeNode>
  clusters: Cluster[]
}

/**
 * An upper-case name (NEW, RUNNING, TASK_ABORT, GET): a state or kind a program logs, part of what
 * happened rather than a value. Messages that differ in one never share a template; lower-case
 * words (user names, hosts) may still be variables. (`/^[A-Z][A-Z_]+$/`, as a char-code loop: it
 * runs for tokens of every message.)
 */
function isStateName(token: string): boolean {
  if (token.length < 2) return false
  const first = token.charCodeAt(0)
  if (first < 65 || first > 90) return false
  for (let i = 1; i < token.length; i++) {
    const c = token.charCodeAt(i)
    if ((c < 65 || c > 90) && c !== 95) return false
  }
  return true
}
/** A token that may name the event rather than carry a value: no digits, not already masked. */
const isPlainWord = (token: string): boolean =>
  token !== WILDCARD && (!hasDigit(token) || isDeviceName(token)) && !IDENTIFIER.test(token)
/** snake_case names (`root_domain`, `cluster_root_backup`) name things, not events. */
const IDENTIFIER = /[A-Za-z]_[A-Za-z]/

/** Two FNV-1a passes with different seeds: 16 hex characters, collisions out of practical reach. */
function templateId(tokens: readonly string[]): string {
  const text = tokens.join(' ')
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`
}
const NONE_ABSORBED: string[] = []
const newNode = (): TreeNode => ({ children: new Map(), clusters: [] })

export class LogTemplateMiner {
  private readonly root = new Map<number, TreeNode>()
  private readonly clusters = new Map<string, Cluster>()
  private readonly similarity: number
  private readonly prefixDepth: number
  private readonly maxChildren: number
  private readonly maxTemplates: number
  private readonly variableAfter: number
  /** Absorbed template id -> the id it merged into; oldest entries go first past the bound. */
  private readonly aliases = new Map<string, string>()
  /**
   * Word variants seen per template-if-generalised: the differing words of each near match, until
   * there are `variableAfter` of them. Bounded like the templates.
   */
  private readonly wordVariants = new Map<string, Set<string>>()
  private clock = 0

  constructor(options: LogTemplateMinerOptions = {}) {
    this.similarity = options.similarity ?? 0.5
    this.prefixDepth = options.prefixDepth ?? 2
    this.maxChildren = options.maxChildren ?? 100
    this.maxTemplates = options.maxTemplates ?? 10_000
    this.variableAfter = Math.max(2, options.variableAfter ?? 4)
  }

  /** The current template of a group (after `resolve`), if it is still held. */
  template(id: string): string | undefined {
    return this.clusters.get(this.resolve(id))?.tokens.join(' ')
  }

  /** The id a template id now stands for: itself, or the template it was merged into. */
  resolve(id: string): string {
    let current = id
    for (let hops = 0; hops < 64; hops++) {
      const next = this.aliases.get(current)
      if (next === undefined) return current
      current = next
    }
    return current
  }

  get size(): number {
    return this.clusters.size
  }

  /** Assigns the message to a template, creating or generalising one as needed. */
  add(message: string): MinedTemplate {
    const { cluster, isNew, absorbed } = this.assign(message)
    return {
      id: cluster.id,
      template: cluster.tokens.join(' '),
      count: cluster.count,
      isNew,
      ...(absorbed.length > 0 && { absorbed }),
    }
  }

  /** `add` for callers that need only the template id (the ingest path, per log line). */
  templateIdOf(message: string): string {
    return this.assign(message).cluster.id
  }

  private assign(message: string): { cluster: Cluster; isNew: boolean; absorbed: string[] } {
    const tokens = tokenize(message)
    this.clock++
    const leaf = this.leafFor(tokens)
    const match = this.bestMatch(leaf.clusters, tokens)
    const wordsDiffer = match !== undefined && this.differsInWords(match, tokens)
    if (match && (!wordsDiffer || this.provenVariable(match, tokens))) {
      for (let i = 0; i < tokens.length; i++) if (match.tokens[i] !== tokens[i]) match.tokens[i] = WILDCARD
      match.count++
      match.lastSeen = this.clock
      const absorbed = wordsDiffer ? this.absorbSiblings(leaf, match) : NONE_ABSORBED
      return { cluster: match, isNew: false, absorbed }
    }
    if (this.clusters.size >= this.maxTemplates) this.forgetOldest()
    const cluster: Cluster = { id: templateId(tokens), tokens: [...tokens], count: 1, lastSeen: this.clock }
    leaf.clusters.push(cluster)
    this.clusters.set(cluster.id, cluster)
    return { cluster, isNew: true, absorbed: NONE_ABSORBED }
  }

  private differsInWords(cluster: Cluster, tokens: string[]): boolean {
    for (let i = 0; i < tokens.length; i++) {
      const t = cluster.tokens[i] as string
      if (t !== tokens[i] && isPlainWord(t) && isPlainWord(tokens[i] as string)) return true
    }
    return false
  }

  /**
   * Whether the places where a message differs from its most similar template in words have
   * shown `variableAfter` different words, so that it may join the template.
   */
  private provenVariable(cluster: Cluster, tokens: string[]): boolean {
    const generalised: string[] = []
    const clusterWords: string[] = []
    const messageWords: string[] = []
    for (let i = 0; i < tokens.length; i++) {
      const t = cluster.tokens[i] as string
      const m = tokens[i] as string
      if (t === m) {
        generalised.push(t)
        continue
      }
      generalised.push(WILDCARD)
      if (isPlainWord(t) && isPlainWord(m)) {
        clusterWords.push(t)
        messageWords.push(m)
      }
    }
    const key = generalised.join(' ')
    let variants = this.wordVariants.get(key)
    if (!variants) {
      variants = new Set([clusterWords.join(' ')])
      setBounded(this.wordVariants, key, variants, this.maxTemplates)
    }
    variants.add(messageWords.join(' '))
    if (variants.size < this.variableAfter) return false
    this.wordVariants.delete(key)
    return true
  }

  /** Folds the leaf's templates that the generalised `into` now covers into it. */
  private absorbSiblings(leaf: TreeNode, into: Cluster): string[] {
    const absorbed: Cluster[] = []
    for (const other of leaf.clusters) {
      if (other === into || other.tokens.length !== into.tokens.length) continue
      if (into.tokens.every((t, i) => t === WILDCARD || t === other.tokens[i])) absorbed.push(other)
    }
    if (absorbed.length === 0) return []
    leaf.clusters = leaf.clusters.filter((c) => !absorbed.includes(c))
    for (const other of absorbed) {
      into.count += other.count
      this.clusters.delete(other.id)
      setBounded(this.aliases, other.id, into.id, this.maxTemplates)
    }
    return absorbed.map((c) => c.id)
  }

  private leafFor(tokens: string[]): TreeNode {
    let top = this.root.get(tokens.length)
    if (!top) {
      top = newNode()
      this.root.set(tokens.length, top)
    }
    let node = top
    // The last token never routes: `removing echo` and `removing chargen` must meet to be compared.
    for (let depth = 0; depth < Math.min(this.prefixDepth, tokens.length - 1); depth++) {
      const token = tokens[depth] as string
      const key = hasDigit(token) || token === WILDCARD ? WILDCARD : token
      let child: TreeNode | undefined = node.children.get(key)
      if (!child) {
        // A crowded node sends new prefixes down one shared wildcard branch.
        const crowded = node.children.size >= this.maxChildren
        child = (crowded ? node.children.get(WILDCARD) : undefined) ?? newNode()
        node.children.set(crowded ? WILDCARD : key, child)
      }
      node = child
    }
    return node
  }

  private bestMatch(candidates: Cluster[], tokens: string[]): Cluster | undefined {
    let best: Cluster | undefined
    let bestScore = -1
    let bestWildcards = -1
    for (const cluster of candidates) {
      let same = 0
      let wildcards = 0
      let statesDiffer = false
      for (let i = 0; i < tokens.length; i++) {
        const t = cluster.tokens[i] as string
        if (t === WILDCARD) wildcards++
        else if (t === tokens[i]) same++
        else if (isStateName(t) && isStateName(tokens[i] as string)) statesDiffer = true
      }
      if (statesDiffer) continue
      const score = tokens.length === 0 ? 1 : same / tokens.length
      if (score > bestScore || (score === bestScore && wildcards > bestWildcards)) {
        best = cluster
        bestScore = score
        bestWildcards = wildcards
      }
    }
    // Wildcards count as agreement only when the rest already agrees enough.
    if (!best) return undefined
    const agreeing = (bestScore * tokens.length + bestWildcards) / Math.max(1, tokens.length)
    return bestScore >= this.similarity || (tokens.length <= 2 && agreeing >= 1) ? best : undefined
  }

  private forgetOldest(): void {
    let oldest: Cluster | undefined
    for (const cluster of this.clusters.values())
      if (!oldest || cluster.lastSeen < oldest.lastSeen) oldest = cluster
    if (!oldest) return
    this.clusters.delete(oldest.id)
    const forget = (node: TreeNode): void => {
      node.clusters = node.clusters.filter((c) => c !== oldest)
      for (const child of node.children.values()) forget(child)
    }
    for (const node of this.root.values()) forget(node)
  }
}
