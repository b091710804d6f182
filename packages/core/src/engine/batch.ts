import { preciseFrom } from "../clock.js";
import { BatchLengthError, ConfigError, InvalidOptionError } from "../errors.js";
import { describeValue } from "../option-kit.js";
import { memoize, type MemoizedParts } from "../memoize.js";
import type { Settings } from "../options.js";
import { currentBinding, syncStateRequired } from "./binding.js";
import { decide } from "./decision.js";
import type { MemoizedHandles, MimeStats, PeekedEntry } from "./handles.js";
import type { Memo } from "./memo.js";
import { isThenable, store } from "./read-through.js";
import { refreshInBackground } from "./refresh.js";
import { countStale, now } from "./report.js";
import { type Slot, slotFor, slotKey } from "./slot.js";
import { forgetSyncOutcome, lastSyncOperationFailed, readSync } from "./state-access.js";
import { tagsFor, writeOptions } from "./write-options.js";

type BulkLoader = (this: unknown, items: readonly unknown[]) => unknown;

/** The item type of a bulk loader `F` (what its array holds). */
export type ItemOf<F> = F extends (items: readonly (infer A)[]) => unknown ? A : never;
/** The result type of one item of a bulk loader `F`. */
export type ResultOf<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>> extends readonly (infer R)[] ? R : never;
/** `T` for a sync bulk loader `F`, `Promise<T>` for an async one: how its handles answer. */
export type Answer<F extends (...args: never[]) => unknown, T> = ReturnType<F> extends PromiseLike<unknown> ? Promise<T> : T;

/**
 * Handles on a memoized bulk loader, per item: each item is cached as a one-argument call would be.
 * Sync for a sync loader, promises for an async one; on a decorated method they act on the instance.
 */
export interface BatchHandles<F extends (...args: never[]) => unknown> {
  /**
   * One item's result. Async: the `one` calls (and the misses of batch calls) of one turn of the event
   * loop reach the loader together, in one call (split by `maxBatchSize`).
   */
  one(item: ItemOf<F>): Answer<F, ResultOf<F>>;
  /** Removes the item's entry (and voids its executions under way, as `fn.invalidate` does). */
  invalidate(item: ItemOf<F>): Answer<F, void>;
  /** The item's entry without loading it: a fresh `{ value }` or `undefined` (see `fn.peek`). */
  peek(item: ItemOf<F>): Answer<F, PeekedEntry<ResultOf<F>> | undefined>;
  /** The key the item is stored under in the current state. */
  key(item: ItemOf<F>): string;
  /** Removes every item of this loader (needs a state with `deletePrefix`). */
  clear(): Answer<F, void>;
  /** Counters per item since the loader was wrapped (`coalesced` counts items shared with a batch in flight). */
  stats(): MimeStats;
}

/** A bulk loader memoized per item by `Mime.batch`: its own signature, plus {@link BatchHandles}. */
export type MemoizedBatch<F extends (...args: never[]) => unknown> = F & BatchHandles<F>;

interface Queued {
  readonly item: unknown;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** Where the waiters of the item `-0` are filed, apart from those of `0`. */
const NEGATIVE_ZERO: unique symbol = Symbol("-0");

/**
 * Collects the items that missed during one turn of the event loop and loads them with one call of
 * the bulk loader (several, of at most `maxBatchSize` items each). Identical items (SameValueZero,
 * except that `-0` is not `0`) of one turn are loaded once.
 */
class TickBatcher {
  #queue: Queued[] = [];

  constructor(
    private readonly loader: BulkLoader,
    private readonly thisArg: unknown,
    private readonly maxBatchSize: number,
    private readonly name: string,
    /** Called when the queue is handed to the loader (a batcher kept only while it has work forgets itself). */
    private readonly onDispatch?: () => void,
  ) {}

  load(item: unknown): Promise<unknown> {
    if (this.#queue.length === 0) setImmediate(() => this.#dispatch());
    return new Promise((resolve, reject) => this.#queue.push({ item, resolve, reject }));
  }

  #dispatch(): void {
    this.onDispatch?.();
    const queued = this.#queue;
    this.#queue = [];
    // The waiters of each distinct item. A Map compares by SameValueZero, which takes -0 for 0 while
    // their keys differ: -0 waits under a token of its own.
    const byItem = new Map<unknown, Queued[]>();
    const items: unknown[] = [];
    for (const entry of queued) {
      const token = Object.is(entry.item, -0) ? NEGATIVE_ZERO : entry.item;
      const waiting = byItem.get(token);
      if (waiting === undefined) {
        byItem.set(token, [entry]);
        items.push(entry.item);
      } else waiting.push(entry);
    }
    const waitersOf = (item: unknown): Queued[] => byItem.get(Object.is(item, -0) ? NEGATIVE_ZERO : item)!;
    for (let start = 0; start < items.length; start += this.maxBatchSize) {
      const chunk = items.slice(start, start + this.maxBatchSize);
      const settleChunk = (results: unknown): void => {
        if (!Array.isArray(results) || results.length !== chunk.length) {
          const error = new BatchLengthError(this.name, chunk.length, results);
          chunk.forEach((item) => waitersOf(item).forEach((waiter) => waiter.reject(error)));
          return;
        }
        chunk.forEach((item, i) => waitersOf(item).forEach((waiter) => waiter.resolve(results[i])));
      };
      const failChunk = (error: unknown): void => chunk.forEach((item) => waitersOf(item).forEach((waiter) => waiter.reject(error)));
      try {
        Promise.resolve(this.loader.call(this.thisArg, chunk)).then(settleChunk, failChunk);
      } catch (error) {
        failChunk(error);
      }
    }
  }
}

/** `this` values that get their own batcher (every object; primitives and `undefined` share one). */
const isObject = (value: unknown): value is object => (typeof value === "object" && value !== null) || typeof value === "function";

/** Checks the `maxBatchSize` option. */
export function validateMaxBatchSize(value: unknown): number {
  if (value === undefined) return Infinity;
  if (value === Infinity || (typeof value === "number" && Number.isInteger(value) && value >= 1)) return value;
  throw new InvalidOptionError(`Mime.batch(options): maxBatchSize must be an integer >= 1 (or Infinity), got ${describeValue(value)}`);
}

function notAnArray(name: string, items: unknown): InvalidOptionError {
  return new InvalidOptionError(`the batch loader "${name}" takes an array of items, got ${describeValue(items)}`);
}

function asyncLoaderError(name: string): ConfigError {
  return new ConfigError(
    `Mime.batch: the loader "${name}" returned a promise but was wrapped as synchronous; declare it async or pass { async: true }`,
  );
}

/**
 * A synchronous batch: reads every item, decides each through the one `decide`, loads the missing
 * ones (deduplicated by key, in order) with one loader call per `maxBatchSize` items, and stores
 * each result under its own key. A loader that throws fails the call unless every missing item has
 * a stale value in its `staleIfError` window.
 */
function loadSync(memo: Memo, loader: BulkLoader, thisArg: unknown, items: readonly unknown[], maxBatchSize: number, name: string): unknown[] {
  const b = currentBinding(memo);
  if (b.syncState === undefined) throw syncStateRequired(b.state, name);
  const results = new Array<unknown>(items.length);
  const missing = new Map<string, { item: unknown; slot: Slot; indexes: number[]; fallback: { value: unknown } | undefined }>();
  const clock = memo.envelope === undefined ? 0 : Date.now();
  // Once a read or write finds the backend down or hung, the batch stops using it: each further
  // operation would wait out a timeout of its own (the items are loaded, and not stored).
  let backendFailed = false;
  items.forEach((item, i) => {
    const args = [item];
    const slot = slotFor(memo, b, thisArg, args, "sync");
    const draw = memo.envelope?.refreshAhead === undefined ? 1 : 1 - Math.random();
    const entry = backendFailed ? undefined : readSync(memo, b, slot);
    backendFailed ||= lastSyncOperationFailed();
    const decision = decide(entry, clock, memo.envelope, draw);
    if (decision.kind === "hit" || decision.kind === "revalidate") {
      if (decision.kind === "hit") memo.counters.hits++;
      else countStale(memo, b, slotKey(memo, slot), "revalidate");
      if (decision.kind === "revalidate" || decision.refreshEarly) refreshInBackground(memo, b, slot, thisArg, args, decision.expiresAt);
      results[i] = decision.value;
      return;
    }
    const key = slotKey(memo, slot);
    const known = missing.get(key);
    if (known !== undefined) {
      memo.counters.coalesced++;
      known.indexes.push(i);
    } else missing.set(key, { item, slot, indexes: [i], fallback: decision.kind === "fallback" ? decision : undefined });
  });
  const pending = [...missing.values()];
  for (let start = 0; start < pending.length; start += maxBatchSize) {
    const chunk = pending.slice(start, start + maxBatchSize);
    const tags = chunk.map(({ item }) => tagsFor(memo, thisArg, [item]));
    memo.counters.misses += chunk.length;
    const began = now();
    const startedAt = preciseFrom(began);
    const mark = memo.flights.invalidationMark();
    let loaded: unknown;
    try {
      loaded = loader.call(thisArg, chunk.map(({ item }) => item));
    } catch (error) {
      if (chunk.some(({ fallback }) => fallback === undefined)) throw error;
      chunk.forEach(({ slot, indexes, fallback }) => {
        countStale(memo, b, slotKey(memo, slot), "fallback");
        indexes.forEach((i) => (results[i] = fallback!.value));
      });
      continue;
    }
    if (isThenable(loaded)) {
      Promise.resolve(loaded).catch(() => undefined);
      throw asyncLoaderError(name);
    }
    if (!Array.isArray(loaded) || loaded.length !== chunk.length) throw new BatchLengthError(name, chunk.length, loaded);
    // The loader itself invalidated (an item, all of them, a tag) while it ran: its results may
    // predate that invalidation, so they are returned and not stored (as for a plain sync call).
    const invalidated = memo.flights.invalidationMark() !== mark;
    chunk.forEach(({ item, slot, indexes }, j) => {
      const value = (loaded as unknown[])[j];
      if (!invalidated && !backendFailed) {
        forgetSyncOutcome();
        store(memo, b, slot, [item], value, writeOptions(b, tags[j], startedAt), true, began);
        backendFailed = lastSyncOperationFailed();
      }
      indexes.forEach((i) => (results[i] = value));
    });
  }
  return results;
}

/** What {@link memoizeBatch} builds: the batch wrapper, and a way to bind it to an instance. */
export interface MemoizedBatchParts {
  readonly memoized: unknown;
  bindInstance(instance: object): unknown;
}

/**
 * Memoizes a bulk loader per item: the memoized function takes an array of items and returns their
 * results in order; each item is keyed and stored as a one-argument call would be, and only the
 * missing items (deduplicated, in order) reach the loader. The per-item machinery is the engine's
 * own (single-flight per item, stale windows, lock, tags, ttl from the result), whose execution step
 * queues the item for the next batch.
 */
export function memoizeBatch(loader: (...args: never[]) => unknown, settings: Settings, maxBatchSize: number, asMethod = false): MemoizedBatchParts {
  const bulk = loader as unknown as BulkLoader;
  const name = settings.name ?? (loader.name || "anonymous");
  const batchers = new WeakMap<object, TickBatcher>();
  /**
   * Batchers of calls without an object `this`, by that `this`: `undefined`, or a primitive, which is
   * part of the items' keys (so items of two primitives never share a load). Each is kept only while
   * items wait in it.
   */
  const plainBatchers = new Map<unknown, TickBatcher>();
  const batcherFor = (thisArg: unknown): TickBatcher => {
    if (!isObject(thisArg)) {
      const token = Object.is(thisArg, -0) ? NEGATIVE_ZERO : thisArg;
      let plain = plainBatchers.get(token);
      if (plain === undefined) {
        plain = new TickBatcher(bulk, thisArg, maxBatchSize, name, () => plainBatchers.delete(token));
        plainBatchers.set(token, plain);
      }
      return plain;
    }
    let batcher = batchers.get(thisArg);
    if (batcher === undefined) batchers.set(thisArg, (batcher = new TickBatcher(bulk, thisArg, maxBatchSize, name)));
    return batcher;
  };
  const isAsync = settings.async || Object.prototype.toString.call(loader) === "[object AsyncFunction]";
  const execute = isAsync
    ? function (this: unknown, item: unknown): Promise<unknown> {
        return batcherFor(this).load(item);
      }
    : function (this: unknown, item: unknown): unknown {
        const results = bulk.call(this, [item]);
        if (isThenable(results)) throw asyncLoaderError(name);
        if (!Array.isArray(results) || results.length !== 1) throw new BatchLengthError(name, 1, results);
        return results[0];
      };
  const perItem = memoize(loader, { ...settings, async: isAsync }, { execute }, asMethod);
  type One = ((this: unknown, item: unknown) => unknown) & MemoizedHandles<(item: unknown) => unknown>;

  const batchOf = (one: One, instance: object | undefined): object =>
    isAsync
      ? function (this: unknown, items: readonly unknown[]): Promise<unknown[]> {
          if (!Array.isArray(items)) return Promise.reject(notAnArray(name, items));
          const thisArg = instance ?? this;
          return Promise.all(items.map((item) => one.call(thisArg, item)));
        }
      : function (this: unknown, items: readonly unknown[]): unknown[] {
          if (!Array.isArray(items)) throw notAnArray(name, items);
          return loadSync(perItem.memo, bulk, instance ?? this, items, maxBatchSize, name);
        };

  const withHandles = (target: object, one: One): unknown => {
    Object.defineProperty(target, "name", { value: loader.name, configurable: true });
    Object.defineProperty(target, "length", { value: loader.length, configurable: true });
    const { invalidate, peek, key, clear, stats } = one;
    // `loadUsers.one(id)` must not key the item per `loadUsers` (its `this` there): one's own
    // binding (none, or the instance) decides.
    const loadOne = (item: unknown): unknown => one(item);
    Object.defineProperty(loadOne, "name", { value: "one", configurable: true });
    return Object.assign(target, { one: loadOne, invalidate, peek, key, clear, stats });
  };

  const one = perItem.memoized as unknown as One;
  return {
    memoized: withHandles(batchOf(one, undefined), one),
    bindInstance(instance) {
      const boundOne = perItem.bindInstance(instance) as One;
      return withHandles(batchOf(boundOne, instance), boundOne);
    },
  };
}
