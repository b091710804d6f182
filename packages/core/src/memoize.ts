import { ConfigError } from "./errors.js";
import { channels } from "./events.js";
import { getGlobalConfig, globalConfigGeneration } from "./global-config.js";
import { identify } from "./keys/identity.js";
import { isFastKeyable } from "./keys/keyable.js";
import { ObjectKeyCache } from "./keys/object-key-cache.js";
import { readsThis } from "./keys/this-use.js";
import type { Settings } from "./options.js";
import type { LocalReader } from "./state/local-access.js";
import { hasSyncOperations, supportsTags } from "./state/contract.js";
import { currentBinding, syncStateRequired, tagsUnsupported } from "./engine/binding.js";
import { handlesFor, type Memoized } from "./engine/handles.js";
import type { Memo } from "./engine/memo.js";
import { callAsync, callSync } from "./engine/read-through.js";
import { FlightTable } from "./engine/single-flight.js";
import { registerTaggedState } from "./engine/tag-invalidation.js";

/** What {@link memoize} builds: the wrapper, and a way to bind it to an instance (for decorated methods). */
export interface MemoizedParts<F extends (...args: never[]) => unknown> {
  readonly memoized: Memoized<F>;
  /** The engine's record of the function (for the batch loader's synchronous path). */
  readonly memo: Memo;
  /** A function that calls the wrapper on `instance`, with handles acting on that instance. */
  bindInstance(instance: object): unknown;
}

function functionKind(fn: unknown): string {
  return Object.prototype.toString.call(fn).slice(8, -1);
}

/**
 * How a batch loader's per-item function differs from a plain memoized function: it is named and
 * keyed as `fn` (the bulk loader), but an execution calls `execute` (one item, batched per tick).
 */
export interface PerItemVariant {
  readonly execute: (this: unknown, item: unknown) => unknown;
}

/**
 * Wraps `fn` so that calls are answered from a state by their key: the assembly of the engine's
 * parts (engine/), plus the hot path of a hit on one or two primitive arguments. `asMethod`: `fn` is
 * a decorated class method, whose calls are keyed per instance whether or not it reads `this`.
 * @throws InvalidOptionError / ConfigError at wrap time when the options cannot work
 */
export function memoize<F extends (...args: never[]) => unknown>(
  fn: F,
  settings: Settings,
  variant?: PerItemVariant,
  asMethod = false,
): MemoizedParts<F> {
  const kind = functionKind(fn);
  if (kind === "GeneratorFunction" || kind === "AsyncGeneratorFunction") {
    throw new ConfigError(
      `Mime: "${fn.name || "anonymous"}" is a${kind === "AsyncGeneratorFunction" ? "n async" : ""} generator function; ` +
        `its result is an iterator that is used up once, so it cannot be cached. Memoize a function that ` +
        `returns an array (e.g. () => [...gen()]) instead.`,
    );
  }
  const longestWindow = Math.max(settings.staleWhileRevalidate, settings.staleIfError);
  const envelope =
    longestWindow > 0 || settings.refreshAhead !== undefined
      ? { staleWhileRevalidate: settings.staleWhileRevalidate, staleIfError: settings.staleIfError, refreshAhead: settings.refreshAhead }
      : undefined;
  const identity = identify(fn, settings.name, settings.version, envelope !== undefined);
  const memo: Memo = {
    settings,
    identity,
    name: identity.name,
    fn,
    keysThis: asMethod || settings.key !== undefined || readsThis(fn) || (settings.tags !== undefined && readsThis(settings.tags)),
    call: (variant?.execute ?? fn) as unknown as Memo["call"],
    owner: fn,
    asyncMode: settings.async || kind === "AsyncFunction",
    returnedValue: false,
    binding: undefined,
    envelope,
    longestWindow,
    counters: { hits: 0, misses: 0, coalesced: 0, stale: 0, errors: 0 },
    flights: new FlightTable(),
    batched: variant !== undefined,
    refreshing: new Set(),
    refreshed: new Map(),
    objectKeys: undefined,
  };

  if (settings.timeout !== undefined && !memo.asyncMode) {
    throw new ConfigError(
      `Mime: "${memo.name}" has a \`timeout\`, which needs an async function (a sync call cannot be interrupted): ` +
        `make it async, or pass { async: true } if it returns a promise.`,
    );
  }
  if (!memo.asyncMode) {
    const sync = settings.state ? hasSyncOperations(settings.state) : getGlobalConfig().stateHasSyncOperations();
    if (!sync) throw syncStateRequired(settings.state ?? getGlobalConfig().getState(), memo.name);
  }
  if (settings.tags !== undefined && settings.state !== undefined) {
    if (!supportsTags(settings.state)) throw tagsUnsupported(settings.state, memo.name);
    registerTaggedState(settings.state);
  }

  const memoized = function (this: unknown, first?: unknown, second?: unknown): unknown {
    // The hottest case, a hit on a lone number or short string in a process-local partition (or a
    // shared state's local copy), is answered here with no argument array, no key string and no
    // nested call but the Map lookup. `arguments` is only read for its length and forwarded, so V8
    // never materialises it here. Keep it small: V8 inlines it into its callers only while it is
    // (the object-argument hit lives in `callWithArguments` for that reason).
    const b = memo.binding;
    const fast = memo.asyncMode ? b?.fastAsync : b?.fastSync;
    const arity = arguments.length;
    if (fast !== undefined && arity <= 2 && (this === undefined || !memo.keysThis) && (settings.state !== undefined || b!.generation === globalConfigGeneration())) {
      if (isFastKeyable(first) && (arity === 1 || isFastKeyable(second))) {
        const entry = arity === 1 ? fast.getLone(first) : fast.getPair(first, second);
        if (entry !== undefined && !channels.hit.hasSubscribers) {
          memo.counters.hits++;
          return memo.asyncMode ? Promise.resolve(entry.value) : entry.value;
        }
        // A burst of callers of one key: all but the first join its flight, here, for the price of a lookup.
        if (entry === undefined && arity === 1 && memo.asyncMode && b!.partitioned !== undefined) {
          const pending = memo.flights.joinArgument(fast, first);
          if (pending !== undefined) {
            memo.counters.coalesced++;
            return pending;
          }
        }
      }
    }
    return (callWithArguments as (this: unknown, ...args: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
  };
  memo.owner = memoized;

  /** Every call but the shortcut above. */
  function callWithArguments(this: unknown, ...args: unknown[]): unknown {
    // One object argument (an options object, a query) under the shortcut's conditions: its key comes
    // from a cache that compares the argument value by value, so a hit builds no key string, and a
    // miss hands the key on (the argument is read once either way).
    let encoded: string | undefined;
    if (args.length === 1 && typeof args[0] === "object" && args[0] !== null) {
      const fast = shortcutReader(this);
      if (fast !== undefined) {
        encoded = (memo.objectKeys ??= new ObjectKeyCache()).argumentsKey(args[0]);
        const entry = encoded === undefined || channels.hit.hasSubscribers ? undefined : fast.get(encoded);
        if (entry !== undefined) {
          memo.counters.hits++;
          return memo.asyncMode ? Promise.resolve(entry.value) : entry.value;
        }
      }
    }
    if (memo.asyncMode) {
      try {
        return callAsync(memo, currentBinding(memo), this, args, encoded);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return callSync(memo, currentBinding(memo), this, args, encoded);
  }

  /** The reader the shortcut uses, when a call with `thisArg` may use it (the same conditions). */
  function shortcutReader(thisArg: unknown): LocalReader | undefined {
    const b = memo.binding;
    const fast = memo.asyncMode ? b?.fastAsync : b?.fastSync;
    if (fast === undefined || (thisArg !== undefined && memo.keysThis)) return undefined;
    return settings.state !== undefined || b!.generation === globalConfigGeneration() ? fast : undefined;
  }

  const named = <T extends object>(target: T): T => {
    Object.defineProperty(target, "name", { value: fn.name, configurable: true });
    Object.defineProperty(target, "length", { value: fn.length, configurable: true });
    return target;
  };
  named(memoized);
  Object.assign(memoized, handlesFor(memo, undefined));
  return {
    memoized: memoized as unknown as Memoized<F>,
    memo,
    bindInstance(instance) {
      const bound = function (this: unknown, ...args: unknown[]): unknown {
        return (memoized as (...callArgs: unknown[]) => unknown).apply(instance, args);
      };
      return Object.assign(named(bound), handlesFor(memo, instance));
    },
  };
}
