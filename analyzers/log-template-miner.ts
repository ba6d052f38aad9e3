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
 */

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
}

export interface LogTemplateMinerOptions {
  /** Share of tokens that must agree to join a template (0..1). */
  similarity?: number
  /** Prefix tokens used to route in the tree (Drain's depth minus the length layer). */
  prefixDepth?: number
  /** Children per tree node before new prefixes share a `<*>` branch. */
  maxChildren?: number
  maxTemplates?: number
}

const WILDCARD = '<*>'

/** Generic variable shapes, most specific first. */
const MASKS: Array<[RegExp, string]> = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, WILDCARD],
  [/(\/?\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d+)?)\b/g, WILDCARD],
  [/\b0x[0-9a-f]+\b/gi, WILDCARD],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, WILDCARD],
  [/(?<![A-Za-z0-9_])[-+]?\d+(?:\.\d+)?(?![A-Za-z0-9_])/g, WILDCARD],
]

/** Replaces variable-looking parts of a message with `<*>`. */
export function maskVariables(message: string): string {
  let masked = message
  for (const [pattern, replacement] of MASKS) masked = masked.replace(pattern, replacement)
  return masked
}

/**
 * Splits on whitespace and on `=`, `,` and `;`, which glue values to keys and list items. Brackets
 * and colons stay inside their tokens: `LOCAL(0),` and `10.1.2.3,` are then both one variable.
 */
export function tokenize(message: string): string[] {
  return (
    maskVariables(message)
      .replace(/([=,;])/g, ' $1 ')
      .split(/\s+/)
      .filter((t) => t.length > 0)
      // A word with digits in it (host an123, block blk_-42, v001) names an instance, not an event.
      // So is a word around a masked part (blk_-<*>, LOCAL(<*>)).
      .map((t) =>
        t !== WILDCARD && ((/\d/.test(t) && /[A-Za-z]/.test(t)) || t.includes(WILDCARD)) ? WILDCARD : t,
      )
  )
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

const hasDigit = (token: string): boolean => /\d/.test(token)
/**
 * An upper-case name (NEW, RUNNING, TASK_ABORT, GET): a state or kind a program logs, part of what
 * happened rather than a value. Messages that differ in one never share a template; lower-case
 * words (user names, hosts) may still be variables.
 */
const isStateName = (token: string): boolean => /^[A-Z][A-Z_]+$/.test(token)

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
const newNode = (): TreeNode => ({ children: new Map(), clusters: [] })

export class LogTemplateMiner {
  private readonly root = new Map<number, TreeNode>()
  private readonly clusters = new Map<string, Cluster>()
  private readonly similarity: number
  private readonly prefixDepth: number
  private readonly maxChildren: number
  private readonly maxTemplates: number
  private clock = 0

  constructor(options: LogTemplateMinerOptions = {}) {
    this.similarity = options.similarity ?? 0.5
    this.prefixDepth = options.prefixDepth ?? 2
    this.maxChildren = options.maxChildren ?? 100
    this.maxTemplates = options.maxTemplates ?? 10_000
  }

  get size(): number {
    return this.clusters.size
  }

  /** Assigns the message to a template, creating or generalising one as needed. */
  add(message: string): MinedTemplate {
    const tokens = tokenize(message)
    this.clock++
    const leaf = this.leafFor(tokens)
    const match = this.bestMatch(leaf.clusters, tokens)
    if (match) {
      for (let i = 0; i < tokens.length; i++) if (match.tokens[i] !== tokens[i]) match.tokens[i] = WILDCARD
      match.count++
      match.lastSeen = this.clock
      return { id: match.id, template: match.tokens.join(' '), count: match.count, isNew: false }
    }
    if (this.clusters.size >= this.maxTemplates) this.forgetOldest()
    const cluster: Cluster = { id: templateId(tokens), tokens: [...tokens], count: 1, lastSeen: this.clock }
    leaf.clusters.push(cluster)
    this.clusters.set(cluster.id, cluster)
    return { id: cluster.id, template: cluster.tokens.join(' '), count: 1, isNew: true }
  }

  private leafFor(tokens: string[]): TreeNode {
    let node: TreeNode = this.root.get(tokens.length) ?? newNode()
    this.root.set(tokens.length, node)
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
