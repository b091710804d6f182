import { clockOffset, type Steps } from "./steps.js";

/** How long a measured offset between this process's clock and the server's is trusted. */
const REMEASURE_AFTER_MS = 30_000;

/**
 * Converts this process's clock to the Redis server's (the node holding the state's records, whose
 * `TIME` stamps invalidations) conservatively: {@link ServerClock.lowerBound} never exceeds the
 * server's true time at that moment, so clock skew can only make an execution look older (and its
 * write be refused), never newer. The offset is measured with `TIME` round trips (a `clockOffset`
 * step: concurrent asynchronous writes share one measurement) and trusted for 30 s.
 */
export class ServerClock {
  readonly #route: Uint8Array;
  /** Server microseconds minus local milliseconds × 1000, at most the true offset. */
  #offset: number | undefined;
  #measuredAt = 0;

  /** @param route a record key: `TIME` goes to the node that stamps invalidations */
  constructor(route: Uint8Array) {
    this.#route = route;
  }

  /** The server time (µs) at or before the local moment `localMs` (ms since the epoch). */
  *lowerBound(localMs: number): Steps<number> {
    if (this.#offset === undefined || Date.now() - this.#measuredAt > REMEASURE_AFTER_MS) {
      const offset = yield* clockOffset(this.#route, "TIME");
      this.#offset = offset;
      this.#measuredAt = Date.now();
    }
    return Math.floor(localMs * 1000 + this.#offset);
  }
}
