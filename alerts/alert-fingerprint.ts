import { createHash } from 'node:crypto'

/** An alert's identity: its labels, in any order (the same labels, the same alert). */
export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256')
  for (const name of Object.keys(labels).sort()) hash.update(`${name}\u0000${labels[name]}\u0001`)
  return hash.digest('hex').slice(0, 16)
}
