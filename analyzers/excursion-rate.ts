/**
 * How often a series leaves its usual band, recently against in the long run. A load balancer that
 * throws a spike now and then is healthy; the same spikes arriving several times as often are a
 * problem (flapping, retry storms) even though no single spike is bigger than before. Counts
 * excursions (the first point of each run beyond the band, so a burst counts once) over the last
 * `window` points and asks how unlikely that count is for a Poisson process at the long-run rate.
 * Constant memory: the onsets within the window are remembered up to a small cap.
 */
const REMEMBERED_ONSETS = 8

export class ExcursionRate {
  /**
   * Point numbers of the latest onsets, a ring. A plain array: a typed array's separate buffer
   * would cost more than its eight numbers.
   */
  private readonly onsets: number[] = new Array<number>(REMEMBERED_ONSETS).fill(-Infinity)
  private nextOnset = 0
  private longRun = 0
  private points = 0
  private wasOutside = false
  /** The evidence behind the last probability: onsets in the window, and how many chance explains. */
  private lastCount = 0
  private lastExpected = 0

  constructor(
    private readonly window = 25,
    private readonly longRunAlpha = 0.0005,
  ) {}

  /**
   * Records whether this point is outside the band; returns the probability that the recent
   * count is not chance at the long-run rate (0 until the long run covers `4 * window` points).
   */
  update(outside: boolean): number {
    const onset = outside && !this.wasOutside ? 1 : 0
    this.wasOutside = outside
    this.points++
    // The long-run rate before this point: the recent burst must not explain itself.
    const a = Math.max(this.longRunAlpha, 1 / this.points)
    const rate = this.longRun
    this.longRun += a * (onset - this.longRun)
    if (onset === 0) return 0
    this.onsets[this.nextOnset] = this.points
    this.nextOnset = (this.nextOnset + 1) % REMEMBERED_ONSETS
    if (this.points <= 4 * this.window) return 0
    let count = 0
    for (const at of this.onsets) if (at > this.points - this.window) count++
    // A floor of one excursion per long run keeps a clean history from making any spike a storm.
    const expected = Math.max(rate, this.longRunAlpha) * this.window
    this.lastCount = count
    this.lastExpected = expected
    return 1 - poissonAtLeast(count, expected)
  }

  /** What the last probability `update` returned was computed from. */
  evidence(): { count: number; expected: number; window: number } {
    return { count: this.lastCount, expected: this.lastExpected, window: this.window }
  }
}

/** P(X >= k) for X ~ Poisson(lambda). */
function poissonAtLeast(k: number, lambda: number): number {
  if (k <= 0) return 1
  let term = Math.exp(-lambda)
  let below = term
  for (let i = 1; i < k; i++) {
    term *= lambda / i
    below += term
  }
  return Math.max(0, 1 - below)
}
