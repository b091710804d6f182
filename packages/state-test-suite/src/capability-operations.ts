import { stateName, type LockingState, type PrefixDeletingState, type TaggingState } from "@mimic/core";
import { ConformanceError } from "./assertions.js";
import { awaitPromise, notThenable, type Operations, type OperationsKind } from "./operations.js";
import { preview, showKey } from "./format.js";

/** Prefix deletion through one half of the API. */
export interface PrefixOperations extends Operations {
  deletePrefix(prefix: string): Promise<void>;
}

/**
 * The sync half uses `deletePrefixSync` where the state has it, else the async `deletePrefix`: a
 * state need not offer the sync variant, and entries written with `setSync` must go either way.
 */
export function prefixOperations(state: PrefixDeletingState, kind: OperationsKind): PrefixOperations {
  const operations = kind.bind(state);
  return {
    ...operations,
    deletePrefix: async (prefix) => {
      const call = `(${showKey(prefix)})`;
      if (kind.sync && state.deletePrefixSync !== undefined) {
        notThenable(state, "deletePrefixSync", `deletePrefixSync${call}`, state.deletePrefixSync(prefix));
        return;
      }
      await awaitPromise(state, "deletePrefix", `deletePrefix${call}`, state.deletePrefix(prefix));
    },
  };
}

/** Tagged writes through one half of the API; `invalidateTags` is async only. */
export interface TagOperations extends Operations {
  setTagged(key: string, value: unknown, ttl: number | null, tags: readonly string[]): Promise<void>;
  invalidateTags(tags: readonly string[]): Promise<void>;
}

export function tagOperations(state: TaggingState, kind: OperationsKind): TagOperations {
  const operations = kind.bind(state);
  return {
    ...operations,
    setTagged: async (key, value, ttl, tags) => {
      const call = `(${showKey(key)}, …, ${ttl}, { tags: ${JSON.stringify(tags)} })`;
      if (kind.sync) {
        // kind.bind has already checked that setSync exists.
        notThenable(state, "setSync", `setSync${call}`, state.setSync!(key, value, ttl, { tags }));
        return;
      }
      await awaitPromise(state, "set", `set${call}`, state.set(key, value, ttl, { tags }));
    },
    invalidateTags: async (tags) => {
      await awaitPromise(state, "invalidateTags", `invalidateTags(${JSON.stringify(tags)})`, state.invalidateTags(tags));
    },
  };
}

/** Leases through `lock`/`unlock`, checked: promises, and a token that is a non-empty string or `undefined`. */
export interface LockOperations {
  lock(key: string, lease: number): Promise<string | undefined>;
  unlock(key: string, token: string): Promise<void>;
}

export function lockOperations(state: LockingState): LockOperations {
  return {
    lock: async (key, lease) => {
      const call = `lock(${showKey(key)}, ${lease})`;
      const token = await awaitPromise(state, "lock", call, state.lock(key, lease));
      // Core tells "someone else holds it" from a token by `undefined` alone: "" or null would be taken as a token.
      if (token !== undefined && (typeof token !== "string" || token === "")) {
        throw new ConformanceError(
          `${stateName(state)}.${call} resolved with ${preview(token)}; it must resolve with a non-empty string token, or undefined when the key is held`,
        );
      }
      return token;
    },
    unlock: async (key, token) => {
      await awaitPromise(state, "unlock", `unlock(${showKey(key)}, ${showKey(token)})`, state.unlock(key, token));
    },
  };
}
