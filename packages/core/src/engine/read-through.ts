import { preciseFrom, preciseNow } from "../clock.js";
import { ConfigError, MimicTimeoutError } from "../errors.js";
import { channels } from "../events.js";
import { fencesWrites, type SetOptions } from "../state/contract.js";
import { type Binding, syncStateRequired } from "./binding.js";
import { decide } from "./decision.js";
import { lockApplies, runLocked } from "./lock.js";
import type { Memo } from "./memo.js";
import { refreshInBackground } from "./refresh.js";
import { countStale, now, publish, reportCoveredFailure } from "./report.js";
import type { Flight } from "./single-flight.js";
import { flightAddress, type Slot, slotFor, slotKey } from "./slot.js";
import { DO_NOT_STORE, ttlFor } from "./expiry.js";
import { readAsync, readSync, writeSlot } from "./state-access.js";
import { tagsFor, writeOptions } from "./write-options.js";

/** A stale value that may answer a call whose execution fails (or, with `timeout`, is slow), until `until` (ms). */
type Fallback = { readonly value: unknown; readonly until: number };

/** The clock the decision needs: only enveloped entries carry an expiry to compare. */
const clockFor = (memo: Memo): number => (memo.envelope === undefined ? 0 : Date.now());

/** A uniform draw in (0, 1] for refresh ahead (never 0, whose logarithm is -Infinity). */
const drawFor = (memo: Memo): number => (memo.envelope?.refreshAhead === undefined ? 1 : 1 - Math.random());

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Stale-if-error: the stale value when there is one in the window, else the function's error. */
function coverWithStale(memo: Memo, b: Binding, slot: Slot, fallback: Fallback | undefined, error: unknown): unknown {
  if (fallback === undefined) throw error;
  const key = slotKey(memo, slot);
  countStale(memo, b, key, "fallback");
  reportCoveredFailure(memo, b, key, error, "MIMIC_STALE_FALLBACK");
  return fallback.value;
}

/**
 * Whether a miss must read the clock when its execution begins: a state that fences writes needs the
 * start, refresh ahead needs the duration (enveloped entries), and so does a subscriber to the miss
 * channel. Otherwise `began` is `NaN` and nothing reads it (a miss event that gains its first
 * subscriber during the call is not published).
 */
function missClockNeeded(memo: Memo, b: Binding): boolean {
  return memo.envelope !== undefined || fencesWrites(b.state) || channels.miss.hasSubscribers;
}

/**
 * A synchronous call: read, decide, and on a miss run the function and write its result.
 * @param encoded the argument part of its key when the caller has it already (see {@link slotFor})
 */
export function callSync(memo: Memo, b: Binding, thisArg: unknown, args: unknown[], encoded?: string): unknown {
  if (b.syncState === undefined) throw syncStateRequired(b.state, memo.name);
  if (lockApplies(memo, b)) {
    throw new ConfigError(`Mime: "${memo.name}" has a \`lock\` option, which needs an async function (waiting for another process cannot be synchronous)`);
  }
  const slot = slotFor(memo, b, thisArg, args, "sync", encoded);
  const decision = decide(readSync(memo, b, slot), clockFor(memo), memo.envelope, drawFor(memo));
  if (decision.kind === "hit") {
    memo.counters.hits++;
    if (decision.refreshEarly) refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
    return decision.value;
  }
  if (decision.kind === "revalidate") {
    countStale(memo, b, slotKey(memo, slot), "revalidate");
    refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
    return decision.value;
  }
  if (decision.kind === "miss" && mayReturnPromises(memo, b) && holdsAsyncEntry(memo, b, thisArg, args)) {
    // Another process has stored this call as an async entry: the function returns promises without
    // being `async`, which this process had not seen yet. It is async from now on, and so is this call.
    switchToAsync(memo, b);
    return callAsync(memo, b, thisArg, args);
  }
  const tags = tagsFor(memo, thisArg, args);
  memo.counters.misses++;
  const began = missClockNeeded(memo, b) ? now() : NaN;
  const startedAt = preciseFrom(began);
  const mark = memo.flights.invalidationMark();
  let result: unknown;
  try {
    result = memo.call.apply(thisArg, args);
  } catch (error) {
    return coverWithStale(memo, b, slot, decision.kind === "fallback" ? decision : undefined, error);
  }
  // The execution itself invalidated (this function's keys, or a tag) while it ran: its result may
  // predate that invalidation, so it is returned and not stored.
  const invalidated = memo.flights.invalidationMark() !== mark;
  if (isThenable(result)) return becomeAsync(memo, b, thisArg, args, result, tags, startedAt, began, invalidated);
  memo.returnedValue = true;
  if (!invalidated) store(memo, b, slot, args, result, writeOptions(b, tags, startedAt), true, began);
  publish(memo, channels.miss, b, slot, began);
  return result;
}

/**
 * Writes one execution's result with its ttl (from the option or the ttl function) and compute
 * time, unless its ttl says not to store it. Returns the write when it is asynchronous.
 */
export function store(
  memo: Memo,
  b: Binding,
  slot: Slot,
  args: unknown[],
  result: unknown,
  options: SetOptions | undefined,
  sync: boolean,
  began: number,
): void | Promise<void> {
  const ttl = ttlFor(memo, b, result, args, slot);
  if (ttl === DO_NOT_STORE) return;
  // The execution's duration is kept only in enveloped entries (refresh ahead's Δ).
  return writeSlot(memo, b, slot, result, options, sync, ttl, memo.envelope === undefined ? 0 : now() - began);
}

/**
 * Whether a function that is not (yet) async may still turn out to return promises, with entries of
 * this call stored as async ones by another process: it has not returned a plain value in this
 * process, and its state is shared (a process-local state holds only this process's entries).
 */
function mayReturnPromises(memo: Memo, b: Binding): boolean {
  return !memo.returnedValue && !b.local;
}

/**
 * Whether the state holds this call's async entry (see {@link mayReturnPromises}). Read without
 * reporting: the call that follows reads it again, and reports a hit or a failure then.
 */
function holdsAsyncEntry(memo: Memo, b: Binding, thisArg: unknown, args: unknown[]): boolean {
  const slot = slotFor(memo, b, thisArg, args, "async");
  try {
    if (slot.partition === undefined) return b.syncState!.getSync(slot.key) !== undefined;
    if (slot.shape === "lone") return slot.partition.getLone(slot.index) !== undefined;
    return (slot.shape === "pair" ? slot.partition.getPair(slot.index[0], slot.index[1]) : slot.partition.get(slot.index)) !== undefined;
  } catch {
    return false;
  }
}

/** From now on the function is keyed and cached as async. */
function switchToAsync(memo: Memo, b: Binding): void {
  memo.asyncMode = true;
  b.fastSync = undefined;
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
  began: number,
  invalidated: boolean,
): Promise<unknown> {
  switchToAsync(memo, b);
  const slot = slotFor(memo, b, thisArg, args, "async");
  const address = flightAddress(memo, slot);
  const key = typeof address === "string" ? address : slotKey(memo, slot);
  return memo.flights.start(
    key,
    tags,
    true,
    (flight) => {
      // Invalidated while its synchronous part ran: voided from the start (not stored, not joined).
      if (invalidated) void flight.invalidate();
      return settle(memo, b, slot, flight, args, Promise.resolve(result), writeOptions(b, tags, startedAt), began);
    },
    address,
    startedAt,
  );
}

/**
 * An asynchronous call. A process-local state (and a shared state's local copy) is read
 * synchronously first; otherwise the call joins the flight of its key, or starts one that reads the
 * state and, on a miss, runs the function.
 * @param encoded the argument part of its key when the caller has it already (see {@link slotFor})
 */
export function callAsync(memo: Memo, b: Binding, thisArg: unknown, args: unknown[], encoded?: string): Promise<unknown> {
  try {
    const slot = slotFor(memo, b, thisArg, args, "async", encoded);
    const readsLocally = b.local && (slot.partition !== undefined || b.syncState !== undefined);
    let fallback: Fallback | undefined;
    if (readsLocally || b.layered !== undefined) {
      // In a shared state's local copy, not finding the entry is not yet a miss.
      const decision = decide(readSync(memo, b, slot, !readsLocally), clockFor(memo), memo.envelope, drawFor(memo));
      if (decision.kind === "hit") {
        memo.counters.hits++;
        if (decision.refreshEarly) refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
        return Promise.resolve(decision.value);
      }
      if (decision.kind === "revalidate") {
        countStale(memo, b, slotKey(memo, slot), "revalidate");
        refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
        return Promise.resolve(decision.value);
      }
      if (decision.kind === "fallback") fallback = decision;
    }
    const address = flightAddress(memo, slot);
    const pending = memo.flights.join(address);
    if (pending !== undefined) {
      memo.counters.coalesced++;
      return pending;
    }
    const tags = tagsFor(memo, thisArg, args);
    const key = typeof address === "string" ? address : slotKey(memo, slot);
    const startedAt = fencesWrites(b.state) ? preciseNow() : NaN;
    return memo.flights.start(
      key,
      tags,
      true,
      (flight) => lookupThenRun(memo, b, slot, flight, thisArg, args, !readsLocally, fallback),
      address,
      startedAt,
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A flight's work: the state's read when it has no synchronous copy, then on a miss the function. */
function lookupThenRun(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  lookup: boolean,
  fallback: Fallback | undefined,
): Promise<unknown> {
  if (lookup && slot.partition === undefined) return readThenRun(memo, b, slot, flight, thisArg, args, fallback);
  try {
    return runCovered(memo, b, slot, flight, thisArg, args, false, fallback);
  } catch (error) {
    // A function that returns promises may still throw before returning one.
    return Promise.reject(error);
  }
}

/**
 * Reads the state; a hit or a stale value answers, a miss runs the function (covered by the state's
 * stale value, else by `fallback` from the local copy).
 */
async function readThenRun(
  memo: Memo,
  b: Binding,
  slot: Slot & { key: string },
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  fallback: Fallback | undefined,
): Promise<unknown> {
  const read = await readAsync(memo, b, slot.key);
  const decision = decide(read.entry, clockFor(memo), memo.envelope, drawFor(memo));
  if (decision.kind === "hit") {
    memo.counters.hits++;
    if (decision.refreshEarly) refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
    return decision.value;
  }
  if (decision.kind === "revalidate") {
    countStale(memo, b, slot.key, "revalidate");
    refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
    return decision.value;
  }
  return runCovered(memo, b, slot, flight, thisArg, args, read.failed, decision.kind === "fallback" ? decision : fallback);
}

/**
 * Runs the function (under the lock when it applies) and stores its result; with `timeout`, the
 * soft and hard limits apply; a rejection is covered by the stale value in `fallback`, if any.
 */
function runCovered(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  readFailed: boolean,
  fallback: Fallback | undefined,
): Promise<unknown> {
  const options = writeOptions(b, flight.tags, flight.startedAt);
  // After a failed read (the backend down or hung) no lease is taken: taking it would cost the call
  // another backend timeout, and other processes cannot reach the backend to wait on it either.
  const execution =
    lockApplies(memo, b) && !readFailed
      ? runLocked(memo, b, slot, flight, thisArg, args, options, runAndStore)
      : runAndStore(memo, b, slot, flight, thisArg, args, options, readFailed);
  if (memo.settings.timeout === undefined && fallback === undefined) return execution;
  return covered(memo, b, slot, execution, fallback);
}

async function covered(memo: Memo, b: Binding, slot: Slot, execution: Promise<unknown>, fallback: Fallback | undefined): Promise<unknown> {
  try {
    return await (memo.settings.timeout === undefined ? execution : withTimeouts(memo, b, slot, execution, fallback));
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
  const began = missClockNeeded(memo, b) ? now() : NaN;
  return settle(memo, b, slot, flight, args, memo.call.apply(thisArg, args), options, began, readFailed);
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
  args: unknown[],
  result: unknown,
  options: SetOptions | undefined,
  began: number,
  readFailed = false,
  sync = false,
): Promise<unknown> {
  const value = await result;
  if (flight.voided) {
    // An invalidation began after this execution did: its result is returned, never stored.
  } else if (slot.partition !== undefined || sync) {
    store(memo, b, slot, args, value, options, true, began);
  } else {
    const write = store(memo, b, slot, args, value, options, false, began) ?? Promise.resolve();
    flight.writing = write;
    // Strict mode must see the write's error. A call that holds a lease never gets here with
    // `readFailed` (see runCovered and runLocked), so its write lands before the lease is released,
    // or waiters would find nothing and run the function again.
    if (!readFailed || b.strict) await write;
    else memo.flights.trackBackgroundWrite(slot.key, write);
  }
  publish(memo, channels.miss, b, slot, began);
  return value;
}

/**
 * The `timeout` option: past `soft`, the stale value in the `staleIfError` window if there is one;
 * past `hard`, a `MimicTimeoutError`. The execution goes on and its result is still stored (unless an
 * invalidation voids it); until it lands, later callers of the key join this settled call and so get
 * the same answer, a stale answer only while it is inside its window.
 */
function withTimeouts(memo: Memo, b: Binding, slot: Slot, execution: Promise<unknown>, fallback: Fallback | undefined): Promise<unknown> {
  const { soft, hard } = memo.settings.timeout!;
  const timers: NodeJS.Timeout[] = [];
  // A call answered with the stale value is joined only while that value is in its window: past it,
  // later callers read the state again (the entry is gone) instead of getting the stale answer.
  let windowEnded: () => void = () => undefined;
  const staleAnswerEnds = new Promise<void>((resolve) => (windowEnded = resolve));
  const timedOut = new Promise<unknown>((resolve, reject) => {
    if (fallback !== undefined && soft !== Infinity) {
      timers.push(
        setTimeout(() => {
          const key = slotKey(memo, slot);
          countStale(memo, b, key, "fallback");
          reportCoveredFailure(memo, b, key, new MimicTimeoutError(memo.name, soft), "MIMIC_STALE_FALLBACK");
          resolve(fallback.value);
          setTimeout(windowEnded, Math.max(0, fallback.until - Date.now())).unref();
        }, soft * 1000),
      );
    }
    if (hard !== Infinity) timers.push(setTimeout(() => reject(new MimicTimeoutError(memo.name, hard)), hard * 1000));
  });
  const late = execution.then(
    () => undefined,
    () => undefined,
  );
  void late.finally(() => timers.forEach(clearTimeout));
  memo.flights.holdWhileRunning(slotKey(memo, slot), late, staleAnswerEnds);
  return Promise.race([execution, timedOut]);
}
