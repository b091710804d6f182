/**
 * A coarse `Date.now()` for expiry checks on the hit path, where reading the clock would cost more
 * than the rest of a hit (`Date.now()` is a system call on some virtual machines). The time is read
 * once and reused until a 1 ms timer (unref'd, armed only while the clock is in use) clears it, or
 * after {@link READS_PER_REFRESH} uses within one synchronous stretch, whichever comes first. It can
 * lag the real clock by that one tick and never runs ahead of it, so an entry is served at most one
 * tick past its expiry, and never treated as expired early.
 */

/** Uses of one reading within a synchronous stretch (where the timer cannot fire). */
export const READS_PER_REFRESH = 256;
/** How long one reading is used while the event loop turns, in ms. */
export const CLOCK_TICK_MS = 1;

let cached = 0;
let reads = 0;
/** Whether a timer that will clear the reading is pending (one at a time: a timer costs more than a hundred hits). */
let armed = false;

function forget(): void {
  cached = 0;
  armed = false;
}

function refresh(): number {
  cached = Date.now();
  reads = READS_PER_REFRESH;
  if (!armed) {
    armed = true;
    setTimeout(forget, CLOCK_TICK_MS).unref();
  }
  return cached;
}

/** Milliseconds since the epoch, at most one tick old (see the module's comment). */
export function coarseNow(): number {
  return cached !== 0 && --reads > 0 ? cached : refresh();
}

/**
 * Reads the real clock for a write and lets the coarse clock catch up with it, so that an entry
 * written now with ttl 0 (expiring now) is already expired for the hits that follow.
 */
export function observedNow(): number {
  const now = Date.now();
  if (now > cached) {
    if (cached === 0) return refresh();
    cached = now;
  }
  return now;
}
