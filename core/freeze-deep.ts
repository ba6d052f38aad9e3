/** Deeper metadata is parsed every time rather than frozen and shared. */
const MAX_FREEZE_DEPTH = 16

/**
 * Freezes a decoded value and everything in it, so records can share it without one's change
 * leaking into the others; false (nothing to share) when it nests deeper than 16 levels.
 */
export function freezeDeep(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return true
  if (depth > MAX_FREEZE_DEPTH) return false
  for (const key in value) if (!freezeDeep((value as Record<string, unknown>)[key], depth + 1)) return false
  Object.freeze(value)
  return true
}
