import { LRUCache } from "lru-cache";

/**
 * The hand-written memos a user would write instead of a library. They are written the way such
 * code usually is (one `get`, then compute and `set` on `undefined`), which is correct here because
 * the benchmarked functions never return `undefined`.
 */

/** A `Map` keyed by the single argument itself. */
export function handMapMemo<A, R>(fn: (arg: A) => R): (arg: A) => R {
  const cache = new Map<A, R>();
  return (arg) => {
    let value = cache.get(arg);
    if (value === undefined) {
      value = fn(arg);
      cache.set(arg, value);
    }
    return value;
  };
}

/** A `Map` keyed by the two arguments joined into one string. */
export function handJoinedKeyMemo<A extends string | number, B extends string | number, R>(fn: (a: A, b: B) => R): (a: A, b: B) => R {
  const cache = new Map<string, R>();
  return (a, b) => {
    const key = `${a}\u0000${b}`;
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(a, b);
      cache.set(key, value);
    }
    return value;
  };
}

/** A `Map` keyed by `JSON.stringify` of the argument list. */
export function jsonMapMemo<Args extends unknown[], R>(fn: (...args: Args) => R): (...args: Args) => R {
  const cache = new Map<string, R>();
  return (...args) => {
    const key = JSON.stringify(args);
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(...args);
      cache.set(key, value);
    }
    return value;
  };
}

/** lru-cache used as a hand-written memo, with the key derived by `keyOf`. */
export function lruMemo<Args extends unknown[], K extends {}, R extends {}>(
  fn: (...args: Args) => R,
  max: number,
  keyOf: (...args: Args) => K,
): (...args: Args) => R {
  const cache = new LRUCache<K, R>({ max });
  return (...args) => {
    const key = keyOf(...args);
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(...args);
      cache.set(key, value);
    }
    return value;
  };
}

/** An async memo that caches the promise (so concurrent callers share it) and drops it on rejection. */
export function handPromiseMemo<A, R>(fn: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  const cache = new Map<A, Promise<R>>();
  return (arg) => {
    let promise = cache.get(arg);
    if (promise === undefined) {
      promise = fn(arg);
      cache.set(arg, promise);
      promise.catch(() => cache.delete(arg));
    }
    return promise;
  };
}
