/** The epoch time of the monotonic clock's zero: fixed for the life of the thread, so read once. */
const ORIGIN = performance.timeOrigin;

/**
 * Milliseconds since the epoch with a fraction (microsecond resolution), from the monotonic clock:
 * when an execution began and when an invalidation happened are compared with it, so that a call
 * made in the same millisecond right after an invalidation is not mistaken for one made before it.
 */
export function preciseNow(): number {
  return ORIGIN + performance.now();
}

/** {@link preciseNow} for a reading of `performance.now()` already taken (one clock read serves both). */
export function preciseFrom(monotonic: number): number {
  return ORIGIN + monotonic;
}
