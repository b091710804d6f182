/** A change of hit rate between two samples that large restarts the climb with a full step. */
const RESTART_THRESHOLD = 0.05;
/** A full step, as a share of the cache's bound. */
const STEP_SHARE = 0.0625;
/** Each step in the same direction is this share of the previous one, so the climb settles. */
const STEP_DECAY = 0.98;

/**
 * Decides, once per sample of requests, how many entries the admission window should grow (or, if
 * negative, shrink) by: it keeps moving in the direction that raised the hit rate last time and
 * turns back when the hit rate fell (hill climbing on the hit rate, as Caffeine adapts its window).
 * A recency-friendly workload thus gets a large window (LRU-like), a frequency-skewed one a small one.
 */
export class HillClimber {
  private previousHitRate = 0;
  private step: number;

  constructor(private readonly maxEntries: number) {
    // The first move shrinks the window: most workloads are skewed enough for frequency to win.
    this.step = -STEP_SHARE * maxEntries;
  }

  /** The window's change in entries after a sample of `hits` and `misses` requests. */
  adjustment(hits: number, misses: number): number {
    const requests = hits + misses;
    if (requests === 0) return 0;
    const hitRate = hits / requests;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.step : -this.step;
    this.step =
      Math.abs(change) >= RESTART_THRESHOLD ? STEP_SHARE * this.maxEntries * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    this.previousHitRate = hitRate;
    return Math.trunc(amount);
  }
}
