/** An object as a literal or a decoder makes it: not an array, not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Whether two values are the same value, or plain objects with the same own keys holding the same
 * primitive values (a nested object never matches): the cheap equality of labels and references
 * that repeat record after record.
 */
export function sameFlatValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (!isPlainObject(a) || !isPlainObject(b)) return false
  let keys = 0
  for (const key in a) {
    const value = a[key]
    if ((typeof value === 'object' && value !== null) || value !== b[key]) return false
    keys++
  }
  for (const key in b) if (Object.hasOwn(b, key)) keys--
  return keys === 0
}
