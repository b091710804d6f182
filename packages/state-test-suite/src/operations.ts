import { stateName, type CacheEntry, type IState } from "@mimic/core";
import { ConformanceError } from "./assertions.js";
import { preview, showKey } from "./format.js";

/**
 * One half of a state's API (async or sync) behind a single awaitable shape, so that each scenario
 * is written once and run through both halves.
 */
export interface Operations {
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, value: unknown, ttl: number | null): Promise<void>;
  delete(key: string): Promise<void>;
  clear(): Promise<void>;
}

/** Which half of the API a group of tests goes through. */
export interface OperationsKind {
  /** Used in test names: `"async operations"`, `"sync operations"`. */
  readonly title: string;
  /** Whether this is the synchronous half. */
  readonly sync: boolean;
  bind(state: IState): Operations;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** A get's result must be a miss or an object that has `value` (a cached `undefined` included). */
export function checkEntry(result: unknown, call: string): CacheEntry | undefined {
  if (result === undefined) return undefined;
  if (typeof result !== "object" || result === null || !("value" in result)) {
    throw new ConformanceError(
      `${call} returned ${preview(result)}; a miss must be undefined and a hit an object with a "value" property`,
    );
  }
  return result as CacheEntry;
}

export async function awaitPromise(state: IState, method: string, call: string, result: unknown): Promise<unknown> {
  // Core chains on the returned promise; a plain value would work with `await` but not with `.then`.
  if (!isThenable(result)) {
    throw new ConformanceError(`${stateName(state)}.${method} returned ${preview(result)} instead of a promise (${call})`);
  }
  return await result;
}

export function notThenable(state: IState, method: string, call: string, result: unknown): unknown {
  if (isThenable(result)) {
    throw new ConformanceError(
      `${stateName(state)}.${method} returned a promise (${call}); a synchronous operation must finish before it returns`,
    );
  }
  return result;
}

function method<K extends keyof IState>(state: IState, name: K): NonNullable<IState[K]> {
  const member = state[name];
  if (typeof member !== "function") {
    throw new ConformanceError(`capabilities.sync is true, but ${stateName(state)} has no ${name} method`);
  }
  return member.bind(state) as NonNullable<IState[K]>;
}

/** `get`, `set`, `delete`, `clear`; each must return a promise. */
export const asyncOperations: OperationsKind = {
  title: "async operations",
  sync: false,
  bind(state) {
    return {
      get: async (key) => {
        const call = `get(${showKey(key)})`;
        return checkEntry(await awaitPromise(state, "get", call, state.get(key)), call);
      },
      set: async (key, value, ttl) => {
        await awaitPromise(state, "set", `set(${showKey(key)}, …, ${ttl})`, state.set(key, value, ttl));
      },
      delete: async (key) => {
        await awaitPromise(state, "delete", `delete(${showKey(key)})`, state.delete(key));
      },
      clear: async () => {
        await awaitPromise(state, "clear", "clear()", state.clear());
      },
    };
  },
};

/**
 * `getSync`, `setSync`, and `deleteSync`/`clearSync` where the state has them (the async `delete`
 * and `clear` otherwise, which is what core falls back to); each sync call must not return a promise.
 */
export const syncOperations: OperationsKind = {
  title: "sync operations",
  sync: true,
  bind(state) {
    const getSync = method(state, "getSync");
    const setSync = method(state, "setSync");
    const async = asyncOperations.bind(state);
    return {
      get: async (key) => {
        const call = `getSync(${showKey(key)})`;
        return checkEntry(notThenable(state, "getSync", call, getSync(key)), call);
      },
      set: async (key, value, ttl) => {
        notThenable(state, "setSync", `setSync(${showKey(key)}, …, ${ttl})`, setSync(key, value, ttl));
      },
      delete: async (key) => {
        if (state.deleteSync === undefined) return async.delete(key);
        notThenable(state, "deleteSync", `deleteSync(${showKey(key)})`, state.deleteSync(key));
      },
      clear: async () => {
        if (state.clearSync === undefined) return async.clear();
        notThenable(state, "clearSync", "clearSync()", state.clearSync());
      },
    };
  },
};
