import { ConfigError } from "../errors.js";
import { anyoneListening, channels } from "../events.js";
import type { SetOptions } from "../state/contract.js";
import { type Binding, syncStateRequired } from "./binding.js";
import { decide } from "./decision.js";
import { lockApplies, runLocked } from "./lock.js";
import type { Memo } from "./memo.js";
import { refreshInBackground } from "./refresh.js";
import { countStale, now, publish, reportCoveredFailure } from "./report.js";
import type { Flight } from "./single-flight.js";
import { type Slot, slotFor, slotKey } from "./slot.js";
import { readAsync, readSync, writeSlot } from "./state-access.js";
import { tagsFor, writeOptions } from "./write-options.js";

/** The clock the decision needs: only entries with stale windows carry an expiry to compare. */
const clockFor = (memo: Memo): number => (memo.windows === undefined ? 0 : Date.now());

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Stale-if-error: the stale value when there is one in the window, else the function's error. */
function coverWithStale(memo: Memo, b: Binding, slot: Slot, fallback: { value: unknown } | undefined, error: unknown): unknown {
  if (fallback === undefined) throw error;
  const key = slotKey(memo, slot);
  countStale(memo, b, key, "fallback");
  reportCoveredFailure(memo, b, key, error, "MIMIC_STALE_FALLBACK");
  return fallback.value;
}

/** A synchronous call: read, decide, and on a miss run the function and write its result. */
export function callSync(memo: Memo, b: Binding, thisArg: unknown, args: unknown[]): unknown {
  if (b.syncState === undefined) throw syncStateRequired(b.state, memo.name);
  if (lockApplies(memo, b)) {
    throw new ConfigError(`Mime: "${memo.name}" has a \`lock\` option, which needs an async function (waiting for another process cannot be synchronous)`);
  }
  const slot = slotFor(memo, b, thisArg, args, "sync");
  const decision = decide(readSync(memo, b, slot), clockFor(memo), memo.windows);
  if (decision.kind === "hit") {
    memo.counters.hits++;
    return decision.value;
  }
  if (decision.kind === "revalidate") {
    countStale(memo, b, slotKey(memo, slot), "revalidate");
    refreshInBackground(memo, b, slot, thisArg, args);
    return decision.value;
  }
  const tags = tagsFor(memo, thisArg, args);
  memo.counters.misses++;
  const started = anyoneListening() ? now() : 0;
  const startedAt = Date.now();
  let result: unknown;
  try {
    result = memo.call.apply(thisArg, args);
  } catch (error) {
    return coverWithStale(memo, b, slot, decision.kind === "fallback" ? decision : undefined, error);
  }
  if (isThenable(result)) return becomeAsync(memo, b, thisArg, args, result, tags, startedAt);
  writeSlot(memo, b, slot, result, writeOptions(b, tags, startedAt), true);
  if (started) publish(memo, channels.miss, b, slot, started);
  return result;
}

/** The function turned out to return promises: from now on it is keyed and cached as async. */
function becomeAsync(
  memo: Memo,
  b: Binding,
  thisArg: unknown,
  args: unknown[],
  result: PromiseLike<unknown>,
  tags: readonly string[] | undefined,
  startedAt: number,
): Promise<unknown> {
  memo.asyncMode = true;
  b.fastSync = undefined;
  const slot = slotFor(memo, b, thisArg, args, "async");
  const started = anyoneListening() ? now() : 0;
  return memo.flights.start(slotKey(memo, slot), tags, true, (flight) =>
    settle(memo, b, slot, flight, Promise.resolve(result), writeOptions(b, tags, startedAt), started),
  );
}

/**
 * An asynchronous call. A process-local state (and a shared state's local copy) is read
 * synchronously first; otherwise the call joins the flight of its key, or starts one that reads the
 * state and, on a miss, runs the function.
 */
export function callAsync(memo: Memo, b: Binding, thisArg: unknown, args: unknown[]): Promise<unknown> {
  try {
    const slot = slotFor(memo, b, thisArg, args, "async");
    const readsLocally = b.local && (slot.partition !== undefined || b.syncState !== undefined);
    let fallback: { value: unknown } | undefined;
    if (readsLocally || b.layered !== undefined) {
      // In a shared state's local copy, not finding the entry is not yet a miss.
      const decision = decide(readSync(memo, b, slot, !readsLocally), clockFor(memo), memo.windows);
      if (decision.kind === "hit") {
        memo.counters.hits++;
        return Promise.resolve(decision.value);
      }
      if (decision.kind === "revalidate") {
        countStale(memo, b, slotKey(memo, slot), "revalidate");
        refreshInBackground(memo, b, slot, thisArg, args);
        return Promise.resolve(decision.value);
      }
      if (decision.kind === "fallback") fallback = decision;
    }
    const key = slotKey(memo, slot);
    const pending = memo.flights.join(key);
    if (pending !== undefined) {
      memo.counters.coalesced++;
      return pending;
    }
    const tags = tagsFor(memo, thisArg, args);
    return memo.flights.start(key, tags, true, (flight) => lookupThenRun(memo, b, slot, flight, thisArg, args, !readsLocally, fallback));
  } catch (error) {
    return Promise.reject(error);
  }
}

async function lookupThenRun(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  lookup: boolean,
  fallback: { value: unknown } | undefined,
): Promise<unknown> {
  let readFailed = false;
  if (lookup && slot.partition === undefined) {
    const read = await readAsync(memo, b, slot.key);
    readFailed = read.failed;
    const decision = decide(read.entry, clockFor(memo), memo.windows);
    if (decision.kind === "hit") {
      memo.counters.hits++;
      return decision.value;
    }
    if (decision.kind === "revalidate") {
      countStale(memo, b, slot.key, "revalidate");
      refreshInBackground(memo, b, slot, thisArg, args);
      return decision.value;
    }
    if (decision.kind === "fallback") fallback = decision;
  }
  const options = writeOptions(b, flight.tags, flight.startedAt);
  try {
    return lockApplies(memo, b)
      ? await runLocked(memo, b, slot, flight, thisArg, args, options, runAndStore)
      : await runAndStore(memo, b, slot, flight, thisArg, args, options, readFailed);
  } catch (error) {
    return coverWithStale(memo, b, slot, fallback, error);
  }
}

/** Runs the function and stores its result (see {@link settle} for `readFailed`). */
export function runAndStore(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  options: SetOptions | undefined,
  readFailed = false,
): Promise<unknown> {
  memo.counters.misses++;
  const started = anyoneListening() ? now() : 0;
  return settle(memo, b, slot, flight, memo.call.apply(thisArg, args), options, started, readFailed);
}

/**
 * Awaits the function's result and stores it, unless an invalidation voided the flight meanwhile;
 * a rejection is passed on and never stored. The caller normally gets its value once the write is
 * done (so a returned call is a stored entry). When this call's read just failed, the backend is
 * likely down or hung: the caller gets its value at once and the write finishes in the background,
 * so that a call never waits for two backend timeouts (later callers join the settled flight until
 * the write lands). A sync function's background refresh writes synchronously (`sync`).
 */
export async function settle(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  result: unknown,
  options: SetOptions | undefined,
  started: number,
  readFailed = false,
  sync = false,
): Promise<unknown> {
  const value = await result;
  if (flight.voided) {
    // An invalidation began after this execution did: its result is returned, never stored.
  } else if (slot.partition !== undefined || sync) {
    writeSlot(memo, b, slot, value, options, true);
  } else {
    const write = writeSlot(memo, b, slot, value, options, false) ?? Promise.resolve();
    flight.writing = write;
    // Strict mode must see the write's error, and a lease must outlast the write, or waiters would
    // find nothing and run the function again.
    if (!readFailed || b.strict || lockApplies(memo, b)) await write;
    else memo.flights.trackBackgroundWrite(slot.key, write);
  }
  if (started) publish(memo, channels.miss, b, slot, started);
  return value;
}
