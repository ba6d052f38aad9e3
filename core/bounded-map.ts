/**
 * Sets `key` in a map used as a bounded cache: the key becomes the newest entry, and when the map
 * already holds `max` other keys the oldest one goes first (maps keep insertion order).
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key)
  if (map.size >= max) {
    const oldest = map.keys().next()
    if (!oldest.done) map.delete(oldest.value)
  }
  map.set(key, value)
}
