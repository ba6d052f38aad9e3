/** A small deterministic generator (an LCG) for fuzz inputs: the same seed, the same payloads. */
export function seededRandom(seed: number): { next: () => number; bytes: (length: number) => Buffer } {
  let state = seed
  const next = (): number => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
  return { next, bytes: (length) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))) }
}
