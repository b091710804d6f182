import { ConfigError } from "../errors.js";
import { type CacheEntry, supportsPrefixDeletion, stateName } from "../state/contract.js";
import { type Binding, currentBinding, syncStateRequired } from "./binding.js";
import { decide } from "./decision.js";
import type { Memo } from "./memo.js";
import type { CallKind } from "../keys/namespace.js";
import { keyFor, namespaceFor } from "./slot.js";
import { checkedEntry } from "./state-access.js";

/** Counters of one memoized function (or method, over all instances). */
export interface MimeStats {
  /** Calls answered from the cache. */
  hits: number;
  /** Calls that ran the function. */
  misses: number;
  /** Calls that joined an execution already in flight for the same key (not misses). */
  coalesced: number;
  /** Calls answered with a stale value (stale-while-revalidate or stale-if-error). */
  stale: number;
  /** Backend errors, absorbed or propagated. */
  errors: number;
  /** Executions in flight now. */
  inFlight: number;
  /** hits / (hits + misses + coalesced), or 0 before any call. */
  hitRatio: number;
}

/** What `peek` returns for a cached call: a fresh copy, never the state's own record. */
export interface PeekedEntry<T = unknown> extends CacheEntry<T> {
  /** Present (and `true`) when the entry is past its ttl but inside a stale window. */
  stale?: true;
}

/** What a call of `F` settles to: the promised value for an async function, the result otherwise. */
export type Settled<F extends (...args: never[]) => unknown> = ReturnType<F> extends PromiseLike<infer V> ? V : ReturnType<F>;
/** `T` for a sync function `F`, `Promise<T>` for an async one: how the handles answer. */
export type SyncOrAsync<F extends (...args: never[]) => unknown, T> = ReturnType<F> extends PromiseLike<unknown> ? Promise<T> : T;

/**
 * Handles on a memoized function: sync for a sync function, promises for an async one. On a
 * decorated method they act on the instance they are read from (`user.find.invalidate(id)`).
 * Backend failures throw or reject here: an invalidation that did not happen is never silent.
 *
 * A function that returns promises without being `async` (and without `async: true`) is known to be
 * async only once a call in this process has returned a promise. Until then its handles answer
 * synchronously (`await` works on their results; `.then` does not), and `invalidate`, `peek` and
 * `clear` act on its entries of both kinds, so an entry that another process stored as async is
 * still removed or seen; `key` gives the sync key. Declare `async: true` to have promises from the
 * first call.
 */
export interface MemoizedHandles<F extends (...args: never[]) => unknown> {
  /**
   * Removes the entry of this call, if any. Executions of this call already under way are not
   * joined by later calls and do not store their result: once it resolves, no call returns a value
   * computed before it began.
   */
  invalidate(...args: Parameters<F>): SyncOrAsync<F, void>;
  /**
   * Reads the entry of this call without calling the function: `undefined` on a miss, else a fresh
   * `{ value }` (`{ value, stale: true }` past the ttl but inside a stale window).
   */
  peek(...args: Parameters<F>): SyncOrAsync<F, PeekedEntry<Settled<F>> | undefined>;
  /** The key this call is stored under in the current state. */
  key(...args: Parameters<F>): string;
  /**
   * Removes every entry of this function (of this instance, for a method in a process-local state),
   * and no other function's; executions under way are voided as by `invalidate`. Needs a state
   * with `deletePrefix`.
   */
  clear(): SyncOrAsync<F, void>;
  /** Counters since the function was wrapped (over all instances, for a method). */
  stats(): MimeStats;
}

/** A function's original type, with the cache handles Mimic adds. */
export type Memoized<F extends (...args: never[]) => unknown> = F & MemoizedHandles<F>;

/** A fresh copy of what `peek` may show of an entry (never the stale-window envelope). */
function peeked(memo: Memo, entry: CacheEntry | undefined): PeekedEntry | undefined {
  const decision = decide(entry, Date.now(), memo.envelope);
  switch (decision.kind) {
    case "hit":
      return { value: decision.value };
    case "miss":
      return undefined;
    default:
      return { value: decision.value, stale: true };
  }
}

/**
 * The kinds of entries a handle acts on: the function's own, or both while it may be a function that
 * returns promises without being `async` and has not shown it in this process yet (other processes
 * may have stored its entries as async ones).
 */
function entryKinds(memo: Memo): readonly CallKind[] {
  if (memo.asyncMode) return ASYNC_ONLY;
  return memo.returnedValue ? SYNC_ONLY : SYNC_THEN_ASYNC;
}
const ASYNC_ONLY: readonly CallKind[] = ["async"];
const SYNC_ONLY: readonly CallKind[] = ["sync"];
const SYNC_THEN_ASYNC: readonly CallKind[] = ["sync", "async"];

/** The handles acting on calls made with `thisArg` (undefined for a plain function). */
export function handlesFor(memo: Memo, thisArg: unknown): MemoizedHandles<(...args: unknown[]) => unknown> {
  const kind = (): CallKind => (memo.asyncMode ? "async" : "sync");
  /** Runs a handle's state operation sync or async, as the function is. */
  const operate = <T>(b: Binding, sync: (() => T) | undefined, async: () => Promise<T>): T | Promise<T> => {
    if (memo.asyncMode) return async();
    if (sync === undefined) throw syncStateRequired(b.state, memo.name);
    return sync();
  };
  return {
    key(...args) {
      return keyFor(memo, currentBinding(memo), thisArg, args, kind());
    },
    invalidate(...args) {
      const b = currentBinding(memo);
      const keys = entryKinds(memo).map((each) => keyFor(memo, b, thisArg, args, each));
      const { state } = b;
      // Voided now, before anything is awaited: no later call joins an execution that began earlier.
      const flightsDone = Promise.all(keys.map((key) => memo.flights.invalidate(key)));
      const deleteAfterWrites = async (): Promise<void> => {
        await flightsDone;
        for (const key of keys) await state.delete(key);
      };
      const deleteSync = state.deleteSync && (() => keys.forEach((key) => state.deleteSync!(key)));
      return operate(b, deleteSync, deleteAfterWrites) as void;
    },
    peek(...args) {
      const b = currentBinding(memo);
      const keys = entryKinds(memo).map((each) => keyFor(memo, b, thisArg, args, each));
      const { state, syncState } = b;
      const peekSync = (): PeekedEntry | undefined => {
        for (const key of keys) {
          const found = peeked(memo, checkedEntry(memo, b, syncState!.getSync(key), key));
          if (found !== undefined) return found;
        }
        return undefined;
      };
      const peekAsync = async (): Promise<PeekedEntry | undefined> => {
        for (const key of keys) {
          const found = peeked(memo, checkedEntry(memo, b, await state.get(key), key));
          if (found !== undefined) return found;
        }
        return undefined;
      };
      return operate(b, syncState && peekSync, peekAsync) as PeekedEntry | undefined;
    },
    clear() {
      const b = currentBinding(memo);
      const { state } = b;
      if (!supportsPrefixDeletion(state)) {
        throw new ConfigError(`Mime: ${stateName(state)} cannot delete one function's entries (it has no deletePrefix)`);
      }
      const namespaces = entryKinds(memo).map((each) => namespaceFor(memo, b, b.local ? thisArg : undefined, each));
      const flightsDone = memo.flights.invalidate();
      const deleteAfterWrites = async (): Promise<void> => {
        await flightsDone;
        for (const namespace of namespaces) await state.deletePrefix(namespace);
      };
      const deleteSync = state.deletePrefixSync && (() => namespaces.forEach((namespace) => state.deletePrefixSync!(namespace)));
      return operate(b, deleteSync, deleteAfterWrites) as void;
    },
    stats() {
      const { counters } = memo;
      const answered = counters.hits + counters.misses + counters.coalesced;
      return { ...counters, inFlight: memo.flights.size, hitRatio: answered === 0 ? 0 : counters.hits / answered };
    },
  };
}
