import { preciseNow } from "../clock.js";

/**
 * Single-flight: concurrent callers of one key share one execution, and an invalidation wins over
 * every execution that began before it. A flight that an invalidation voids is no longer joined,
 * and its result is not stored (the callers that had already joined it still get it: their calls
 * began before the invalidation).
 */

/** One execution of the function for one key. */
export interface Flight {
  readonly key: string;
  /** Its tags (from the `tags` option), for `Mime.invalidateTags`. */
  readonly tags: readonly string[] | undefined;
  /**
   * When the execution began ({@link preciseNow}): states that fence writes compare it to their
   * invalidations. `NaN` when the caller's state does not fence writes (the clock is not read).
   */
  readonly startedAt: number;
  /** Set by an invalidation that began while the flight was running: its result must not be stored. */
  voided: boolean;
  /** The write of its result while it is under way (an invalidation waits for it, then deletes). */
  writing: Promise<void> | undefined;
  /** Voids it (no more joins, no store); resolves once a write already under way is done. */
  readonly invalidate: () => Promise<unknown>;
}

/** Resolves once every promise has settled: a failed write is the write's caller's to report, not the invalidation's. */
function settledAll(waits: readonly Promise<unknown>[]): Promise<void> {
  return Promise.allSettled(waits).then(() => undefined);
}

/**
 * Flights and background writes of every function in this process, for invalidations by tag; on
 * `globalThis` so that `Mime.invalidateTags` from either build of Mimic (ESM, CJS) reaches them all.
 */
interface FlightRegistry {
  /** The flights that carry tags, not yet settled (only those can be voided by a tag). */
  readonly active: Set<Flight>;
  /** Writes of results already returned to their callers (see {@link FlightTable.trackBackgroundWrite}). */
  readonly backgroundWrites: Set<Promise<void>>;
}
const registryKey = Symbol.for("@mimic/core/flights@1");
const registry: FlightRegistry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= {
  active: new Set(),
  backgroundWrites: new Set(),
} satisfies FlightRegistry) as FlightRegistry;
const activeFlights = registry.active;
const backgroundWrites = registry.backgroundWrites;

/**
 * How many tag invalidations this process has begun (by either build of Mimic): a synchronous
 * execution, which has no flight, compares it before and after it runs (see
 * {@link FlightTable.invalidationMark}).
 */
const tagInvalidations: { count: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for("@mimic/core/tag-invalidations@1")] ??= {
  count: 0,
}) as { count: number };

/**
 * Where a joinable flight is found: a key string, or, for a call whose lone primitive argument
 * indexes a partition, that partition and argument (so that joining costs no key string: a burst of
 * callers of one key each look it up).
 */
export type FlightAddress = string | { readonly partition: object; readonly index: unknown };

interface Joinable {
  readonly flight: Flight;
  promise: Promise<unknown>;
}

/** The flights and background writes of one memoized function. */
export class FlightTable {
  /** Joinable flights by key string. */
  readonly #joinable = new Map<string, Joinable>();
  /** Joinable flights by partition and lone argument. */
  readonly #joinableByArgument = new Map<object, Map<unknown, Joinable>>();
  /** Writes of results already returned to their callers, by key (shared states, not strict). */
  readonly #writes = new Map<string, Promise<void>>();
  /**
   * Executions still running after their call was answered (a timeout), by key: until when they run,
   * and until when their settled flight stays joinable (as long, or until a stale answer's window ends).
   */
  readonly #overtime = new Map<string, { readonly running: Promise<void>; readonly joinable: Promise<void> }>();
  /** This function's flights not yet settled (an invalidation of one key looks only here). */
  readonly #active = new Set<Flight>();
  /** How many invalidations of this function's keys have begun. */
  #invalidations = 0;

  /** Executions in flight now. */
  get size(): number {
    let size = this.#joinable.size;
    for (const byArgument of this.#joinableByArgument.values()) size += byArgument.size;
    return size;
  }

  /** The promise of the flight at `address` to join, if one runs that no invalidation has voided. */
  join(address: FlightAddress): Promise<unknown> | undefined {
    return typeof address === "string" ? this.#joinable.get(address)?.promise : this.#joinableByArgument.get(address.partition)?.get(address.index)?.promise;
  }

  /** {@link FlightTable.join} by partition and lone argument, without an address object (the wrapper's hot path). */
  joinArgument(partition: object, index: unknown): Promise<unknown> | undefined {
    return this.#joinableByArgument.get(partition)?.get(index)?.promise;
  }

  #register(address: FlightAddress, entry: Joinable): void {
    if (typeof address === "string") {
      this.#joinable.set(address, entry);
      return;
    }
    let byArgument = this.#joinableByArgument.get(address.partition);
    if (byArgument === undefined) this.#joinableByArgument.set(address.partition, (byArgument = new Map()));
    byArgument.set(address.index, entry);
  }

  /** Forgets `entry` at `address` unless another flight took its place. */
  #unregister(address: FlightAddress, entry: Joinable): void {
    if (typeof address === "string") {
      if (this.#joinable.get(address) === entry) this.#joinable.delete(address);
      return;
    }
    const byArgument = this.#joinableByArgument.get(address.partition);
    if (byArgument?.get(address.index) !== entry) return;
    byArgument.delete(address.index);
    if (byArgument.size === 0) this.#joinableByArgument.delete(address.partition);
  }

  /**
   * Starts a flight for `key`: `run` receives it and returns the execution's promise. With
   * `joinable`, later callers of the key share it until it settles (and until a background write
   * of its result lands, so that nobody reads the state before the write). A background refresh is
   * not joinable (callers meanwhile get the stale value) but is voided like any flight. `startedAt`
   * is read from the clock unless given (`NaN` for a state that does not fence writes).
   */
  start(
    key: string,
    tags: readonly string[] | undefined,
    joinable: boolean,
    run: (flight: Flight) => Promise<unknown>,
    address: FlightAddress = key,
    startedAt: number = preciseNow(),
  ): Promise<unknown> {
    const flight: Flight = {
      key,
      tags,
      startedAt,
      voided: false,
      writing: undefined,
      invalidate: () => {
        flight.voided = true;
        this.#unregister(address, entry);
        return flight.writing ?? Promise.resolve();
      },
    };
    const tagged = tags !== undefined && tags.length > 0;
    this.#active.add(flight);
    if (tagged) activeFlights.add(flight);
    const entry: Joinable = { flight, promise: undefined as unknown as Promise<unknown> };
    const promise = run(flight);
    entry.promise = promise;
    // A flight voided while `run` started it (the function's synchronous part invalidated its own
    // key) is never joinable.
    if (joinable && !flight.voided) this.#register(address, entry);
    const release = (): void => {
      this.#active.delete(flight);
      if (tagged) activeFlights.delete(flight);
    };
    const settleFlight = (): void => {
      // Background writes (shared states) and overtime executions (timeouts) are rare: skip the lookups.
      const overtime = this.#overtime.size === 0 ? undefined : this.#overtime.get(key);
      // An execution that runs on after a timeout answered its callers stays voidable until it ends:
      // an invalidation meanwhile must keep its result from being stored and from being joined.
      if (overtime === undefined) release();
      else void overtime.running.then(release);
      if (!joinable) return;
      const write = this.#writes.size === 0 ? undefined : this.#writes.get(key);
      if (write === undefined && overtime === undefined) this.#unregister(address, entry);
      else void Promise.all([write, overtime?.joinable]).then(() => this.#unregister(address, entry));
    };
    promise.then(settleFlight, settleFlight);
    return promise;
  }

  /**
   * A number that changes whenever an invalidation that could cover an execution of this function
   * begins (of one of its keys, of all of them, or of any tag). A synchronous execution has no flight
   * to void: it compares the mark taken before it ran with the mark after, and stores nothing when
   * they differ (only code the execution itself runs can invalidate meanwhile).
   */
  invalidationMark(): number {
    return this.#invalidations + tagInvalidations.count;
  }

  /** Voids the flights of `key` (or every flight of this function); resolves once their writes are done. */
  invalidate(key?: string): Promise<void> {
    this.#invalidations++;
    const waits: Promise<unknown>[] = [];
    for (const flight of this.#active) {
      if (key === undefined || flight.key === key) waits.push(flight.invalidate());
    }
    if (key === undefined) waits.push(...this.#writes.values());
    else {
      const write = this.#writes.get(key);
      if (write !== undefined) waits.push(write);
    }
    return settledAll(waits);
  }

  /**
   * Registers the write of a result already returned to its caller, so that later callers join the
   * settled flight until it lands and an invalidation made after the call sees its entry.
   */
  trackBackgroundWrite(key: string, write: Promise<void>): void {
    const done = write.finally(() => {
      if (this.#writes.get(key) === done) this.#writes.delete(key);
      backgroundWrites.delete(done);
    });
    this.#writes.set(key, done);
    backgroundWrites.add(done);
  }

  /**
   * Keeps the settled flight of `key` joinable while its execution runs on after a timeout answered
   * its callers, so later callers get that answer instead of starting the function again; with
   * `answerEnds`, no longer than until it resolves (a stale answer past its window). Invalidations do
   * not wait for it: they void the flight, so its result is not stored.
   */
  holdWhileRunning(key: string, execution: Promise<void>, answerEnds?: Promise<void>): void {
    const running = execution.finally(() => {
      if (this.#overtime.get(key) === held) this.#overtime.delete(key);
    });
    const held = { running, joinable: answerEnds === undefined ? running : Promise.race([running, answerEnds]) };
    this.#overtime.set(key, held);
  }

  /** Voids the flights carrying any of `tags` in every function; resolves once their writes are done. */
  static invalidateTagged(tags: readonly string[]): Promise<void> {
    tagInvalidations.count++;
    const wanted = new Set(tags);
    const waits: Promise<unknown>[] = [...backgroundWrites];
    for (const flight of activeFlights) {
      if (flight.tags?.some((tag) => wanted.has(tag))) waits.push(flight.invalidate());
    }
    return settledAll(waits);
  }
}
