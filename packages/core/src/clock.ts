/**
 * Milliseconds since the epoch with a fraction (microsecond resolution), from the monotonic clock:
 * when an execution began and when an invalidation happened are compared with it, so that a call
 * made in the same millisecond right after an invalidation is not mistaken for one made before it.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
