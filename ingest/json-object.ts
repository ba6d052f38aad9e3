/** Narrowing helpers for untrusted JSON: sources send objects we did not produce. */
export type JsonObject = Record<string, unknown>

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const objectAt = (value: unknown, key: string): JsonObject => {
  const inner = isJsonObject(value) ? value[key] : undefined
  return isJsonObject(inner) ? inner : {}
}

export const stringAt = (value: unknown, key: string): string | undefined => {
  const inner = isJsonObject(value) ? value[key] : undefined
  return typeof inner === 'string' && inner.length > 0 ? inner : undefined
}

export const numberAt = (value: unknown, key: string): number | undefined => {
  const inner = isJsonObject(value) ? value[key] : undefined
  if (typeof inner === 'number' && Number.isFinite(inner)) return inner
  if (typeof inner === 'string' && inner.trim() !== '' && Number.isFinite(Number(inner))) return Number(inner)
  return undefined
}

/** A flat string map from an object of scalars (labels, annotations). */
export function stringMap(value: unknown): Record<string, string> {
  if (!isJsonObject(value)) return {}
  const out: Record<string, string> = {}
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined && v !== null) out[key] = typeof v === 'string' ? v : JSON.stringify(v)
  }
  return out
}

export type Normalised<T> = { ok: true; record: T } | { ok: false; reason: string }
