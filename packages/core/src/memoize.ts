import type { ErrorContext, ErrorHandler, StateOperation } from "./config.js";
import { ConfigError, MimicError, StateError, UnsupportedArgumentError } from "./errors.js";
import { getGlobalConfig, globalConfigGeneration } from "./global-config.js";
import { claimSharedIdentity, type FunctionIdentity, identify } from "./identity.js";
import { type CallKind, encodeArguments, encodeCustomKey, isLoneKeyable } from "./key.js";
import type { Settings } from "./options.js";
import {
  type CacheEntry,
  hasSyncOperations,
  type IState,
  isPartitioned,
  type LocalPartition,
  type PartitionedState,
  stateName,
  type SyncCapableState,
} from "./state.js";

/** Counters of one memoized function (or method, over all instances). */
export interface MimeStats {
  /** Calls answered from the cache. */
  hits: number;
  /** Calls that ran the function. */
  misses: number;
  /** Calls that joined an execution already in flight for the same key (not misses). */
  coalesced: number;
  /** Calls answered with a stale value (reserved for stale windows; 0 until they are enabled). */
  stale: number;
  /** Backend errors, absorbed or propagated. */
  errors: number;
  /** Executions in flight now. */
  inFlight: number;
  /** hits / (hits + misses + coalesced), or 0 before any call. */
  hitRatio: number;
}

/** A function's original type, with the cache handles Mimic adds. */
export type Memoized<F extends (...args: never[]) => unknown> = F & MemoizedHandles<F>;

type Settled<F extends (...args: never[]) => unknown> = ReturnType<F> extends PromiseLike<infer V> ? V : ReturnType<F>;
type SyncOrAsync<F extends (...args: never[]) => unknown, T> = ReturnType<F> extends PromiseLike<unknown> ? Promise<T> : T;

/** Handles on a memoized function. Sync for sync functions, promises for async ones. */
export interface MemoizedHandles<F extends (...args: never[]) => unknown> {
  /** Removes the entry of this call, if any. */
  invalidate(...args: Parameters<F>): SyncOrAsync<F, void>;
  /** Reads the entry of this call without calling the function; `undefined` on a miss. */
  peek(...args: Parameters<F>): SyncOrAsync<F, CacheEntry<Settled<F>> | undefined>;
  /** The key this call is stored under in the current state. */
  key(...args: Parameters<F>): string;
  /** Removes every entry of this function, and no other's. Needs a state with `deletePrefix`. */
  clear(): SyncOrAsync<F, void>;
  /** Counters since the function was wrapped. */
  stats(): MimeStats;
}

/** Optional state capability: delete every key under a namespace prefix. */
interface PrefixDeletingState extends IState {
  deletePrefix(prefix: string): Promise<void>;
  deletePrefixSync?(prefix: string): void;
}

/** The state a wrapper uses, resolved from its options or the global config, with its policy. */
interface Binding {
  readonly generation: number;
  readonly state: IState;
  readonly syncState: SyncCapableState | undefined;
  readonly local: boolean;
  readonly onError: ErrorHandler | undefined;
  readonly strict: boolean;
  /** Set when the state is process-local and hands out partitions (fast hits by argument). */
  readonly partitioned: PartitionedState | undefined;
  /** This wrapper's partitions for calls without an instance, by call kind, created on first use. */
  readonly partitions: { sync?: LocalPartition; async?: LocalPartition };
  /** Per-instance partitions of a method, held weakly. */
  readonly instancePartitions: WeakMap<object, { sync?: LocalPartition; async?: LocalPartition }>;
}

/** Disposes a partition once its owner (a wrapper, or an instance of a method) is garbage-collected. */
const partitionReaper = new FinalizationRegistry<LocalPartition>((partition) => partition.dispose());

const isNativeAsync = (fn: unknown): boolean => {
  const tag = Object.prototype.toString.call(fn);
  return tag === "[object AsyncFunction]" || tag === "[object AsyncGeneratorFunction]";
};

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** `this` values that are an object to key per instance (not a plain call). */
function instanceOf(thisArg: unknown): object | undefined {
  if (thisArg === undefined || thisArg === null || thisArg === globalThis) return undefined;
  return typeof thisArg === "object" || typeof thisArg === "function" ? thisArg : undefined;
}

const lastWarning = new WeakMap<IState, number>();

/** The default `onError`: one process warning per state every 30 seconds. */
const warnAboutAbsorbedError: ErrorHandler = (error, context) => {
  const now = Date.now();
  if ((lastWarning.get(context.state) ?? -Infinity) > now - 30_000) return;
  lastWarning.set(context.state, now);
  process.emitWarning(
    `Mimic: ${error.message}. "${context.functionName}" was called instead of using the cache; ` +
      `pass onError to Mime or Config to handle these (further warnings for this state are muted for 30 s).`,
    { code: error.code },
  );
};

function toMimicError(raw: unknown, context: ErrorContext): MimicError {
  if (raw instanceof MimicError) return raw;
  const message = raw instanceof Error ? raw.message : String(raw);
  const key = context.key === undefined ? "" : ` for key ${JSON.stringify(context.key.slice(0, 200))}`;
  return new StateError(`${stateName(context.state)}.${context.operation} failed${key}: ${message}`, { cause: raw });
}

function syncStateRequired(state: IState, name: string): ConfigError {
  return new ConfigError(
    `Mime: "${name}" is a synchronous function but its state (${stateName(state)}) has no sync operations ` +
      `(getSync/setSync). Use a state that has them (MemoryState, RedisState, TempFileState), or, if the ` +
      `function returns a promise, declare it async or pass { async: true }.`,
  );
}

/**
 * Wraps `fn` so that calls are answered from a state by their key. The engine behind `Mime`.
 * @throws InvalidOptionError / ConfigError at wrap time when the options cannot work
 */
export function memoize<F extends (...args: never[]) => unknown>(fn: F, settings: Settings): Memoized<F> {
  const identity: FunctionIdentity = identify(fn, settings.name, settings.version);
  const name = identity.name;
  const call = fn as unknown as (this: unknown, ...args: unknown[]) => unknown;
  let asyncMode = settings.async || isNativeAsync(fn);
  const inflight = new Map<string, Promise<unknown>>();
  const counters = { hits: 0, misses: 0, coalesced: 0, stale: 0, errors: 0 };
  const ttl = settings.ttl;
  let binding: Binding | undefined;

  if (!asyncMode) {
    const sync = settings.state ? hasSyncOperations(settings.state) : getGlobalConfig().peekStateShape().sync;
    if (!sync) throw syncStateRequired(settings.state ?? getGlobalConfig().getState(), name);
  }

  function bind(): Binding {
    const generation = settings.state ? 0 : globalConfigGeneration();
    if (binding !== undefined && binding.generation === generation) return binding;
    const config = getGlobalConfig();
    const state = settings.state ?? config.getState();
    binding = {
      generation,
      state,
      syncState: hasSyncOperations(state) ? state : undefined,
      local: state.local === true,
      onError: settings.onError ?? config.onError,
      strict: settings.strict ?? config.strict,
      partitioned: isPartitioned(state) ? state : undefined,
      partitions: {},
      instancePartitions: new WeakMap(),
    };
    if (!binding.local) {
      claimSharedIdentity(identity.shared("sync"), fn, name);
      claimSharedIdentity(identity.shared("async"), fn, name);
    }
    return binding;
  }

  /** Reports a backend error; rethrows it when strict. */
  function absorb(raw: unknown, operation: StateOperation, key: string | undefined, b: Binding): void {
    counters.errors++;
    const context: ErrorContext =
      key === undefined ? { functionName: name, operation, state: b.state } : { functionName: name, operation, key, state: b.state };
    const error = toMimicError(raw, context);
    if (b.strict) throw error;
    try {
      (b.onError ?? warnAboutAbsorbedError)(error, context);
    } catch {
      // An error handler that throws must not turn a cache problem into a failed call.
    }
  }

  function namespaceFor(b: Binding, thisArg: unknown, kind: CallKind): string {
    const instance = instanceOf(thisArg);
    if (b.local) return identity.local(kind, instance);
    const namespace = identity.shared(kind);
    if (instance !== undefined && settings.key === undefined) {
      throw new ConfigError(
        `Mime: "${name}" was called with \`this\` (${instance.constructor?.name ?? typeof instance}) on a shared ` +
          `state (${stateName(b.state)}), where entries outlive the instance. Pass a \`key\` option that says how ` +
          `\`this\` contributes, e.g. Mime({ key(this: User, id) { return [this.id, id]; } }).`,
      );
    }
    return namespace;
  }

  /** The argument part of a key: the user's `key` option, else the canonical argument encoding. */
  function argumentsKey(thisArg: unknown, args: unknown[]): string {
    return settings.key === undefined
      ? encodeArguments(args, name)
      : encodeCustomKey(settings.key.apply(thisArg, args), name);
  }

  function keyFor(b: Binding, thisArg: unknown, args: unknown[], kind: CallKind): string {
    return namespaceFor(b, thisArg, kind) + argumentsKey(thisArg, args);
  }

  /** Whether this call is keyed by its lone argument's own value in a partition. */
  function isLoneCall(args: unknown[]): boolean {
    return args.length === 1 && settings.key === undefined && isLoneKeyable(args[0]);
  }

  function partitionFor(b: Binding, state: PartitionedState, thisArg: unknown, kind: CallKind): LocalPartition {
    const instance = instanceOf(thisArg);
    const owned = instance === undefined ? b.partitions : b.instancePartitions.get(instance) ?? {};
    let partition = owned[kind];
    if (partition === undefined) {
      partition = state.partition(identity.local(kind, instance));
      owned[kind] = partition;
      if (instance !== undefined) b.instancePartitions.set(instance, owned);
      partitionReaper.register(instance ?? memoized, partition);
    }
    return partition;
  }

  /** A sync call on a partitioned local state: the hit is one Map lookup on the argument. */
  function callSyncPartitioned(b: Binding, state: PartitionedState, thisArg: unknown, args: unknown[]): unknown {
    const partition = partitionFor(b, state, thisArg, "sync");
    const lone = isLoneCall(args);
    const index = lone ? args[0] : argumentsKey(thisArg, args);
    let entry: CacheEntry | undefined;
    try {
      entry = lone ? partition.getLone(index) : partition.get(index as string);
    } catch (error) {
      absorb(error, "get", keyFor(b, thisArg, args, "sync"), b);
    }
    if (entry !== undefined) {
      counters.hits++;
      return entry.value;
    }
    counters.misses++;
    const result = call.apply(thisArg, args);
    if (isThenable(result)) return becomeAsync(b, thisArg, args, result);
    try {
      if (lone) partition.setLone(index, result, ttl);
      else partition.set(index as string, result, ttl);
    } catch (error) {
      absorb(error, "set", keyFor(b, thisArg, args, "sync"), b);
    }
    return result;
  }

  /** The function turned out to return promises: from now on it is keyed and cached as async. */
  function becomeAsync(b: Binding, thisArg: unknown, args: unknown[], result: PromiseLike<unknown>): Promise<unknown> {
    asyncMode = true;
    const key = keyFor(b, thisArg, args, "async");
    return fly(key, settle(b, key, Promise.resolve(result)));
  }

  function callSync(b: Binding, thisArg: unknown, args: unknown[]): unknown {
    const state = b.syncState;
    if (state === undefined) throw syncStateRequired(b.state, name);
    if (b.partitioned !== undefined) return callSyncPartitioned(b, b.partitioned, thisArg, args);
    const key = keyFor(b, thisArg, args, "sync");
    let entry: CacheEntry | undefined;
    try {
      entry = state.getSync(key);
    } catch (error) {
      absorb(error, "get", key, b);
    }
    if (entry !== undefined) {
      counters.hits++;
      return entry.value;
    }
    counters.misses++;
    const result = call.apply(thisArg, args);
    if (isThenable(result)) return becomeAsync(b, thisArg, args, result);
    try {
      state.setSync(key, result, ttl);
    } catch (error) {
      absorb(error, "set", key, b);
    }
    return result;
  }

  function callAsync(b: Binding, thisArg: unknown, args: unknown[]): Promise<unknown> {
    try {
      const hit = b.local ? readLocalForAsync(b, thisArg, args) : undefined;
      if (hit !== undefined) {
        counters.hits++;
        return Promise.resolve(hit.value);
      }
      const key = keyFor(b, thisArg, args, "async");
      const pending = inflight.get(key);
      if (pending !== undefined) {
        counters.coalesced++;
        return pending;
      }
      // A process-local state with sync reads was read above; any other state is read in the flight.
      return fly(key, lookupThenRun(b, key, thisArg, args, !(b.local && b.syncState !== undefined)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A process-local state answers without a round trip, so an async call reads it synchronously. */
  function readLocalForAsync(b: Binding, thisArg: unknown, args: unknown[]): CacheEntry | undefined {
    try {
      if (b.partitioned !== undefined) {
        const partition = partitionFor(b, b.partitioned, thisArg, "async");
        return isLoneCall(args) ? partition.getLone(args[0]) : partition.get(argumentsKey(thisArg, args));
      }
      return b.syncState?.getSync(keyFor(b, thisArg, args, "async"));
    } catch (error) {
      if (error instanceof UnsupportedArgumentError || error instanceof ConfigError) throw error;
      absorb(error, "get", keyFor(b, thisArg, args, "async"), b);
      return undefined;
    }
  }

  /** Registers a flight so concurrent callers of the same key share it; forgets it once settled. */
  function fly(key: string, flight: Promise<unknown>): Promise<unknown> {
    inflight.set(key, flight);
    const land = (): void => {
      if (inflight.get(key) === flight) inflight.delete(key);
    };
    flight.then(land, land);
    return flight;
  }

  async function lookupThenRun(b: Binding, key: string, thisArg: unknown, args: unknown[], lookup: boolean): Promise<unknown> {
    if (lookup) {
      let entry: CacheEntry | undefined;
      try {
        entry = await b.state.get(key);
      } catch (error) {
        absorb(error, "get", key, b);
      }
      if (entry !== undefined) {
        counters.hits++;
        return entry.value;
      }
    }
    counters.misses++;
    return settle(b, key, call.apply(thisArg, args));
  }

  /** Awaits the function's result and stores it; a rejection is passed on and never stored. */
  async function settle(b: Binding, key: string, result: unknown): Promise<unknown> {
    const value = await result;
    try {
      await b.state.set(key, value, ttl);
    } catch (error) {
      absorb(error, "set", key, b);
    }
    return value;
  }

  const memoized = function (this: unknown): unknown {
    const b = binding !== undefined && binding.generation === (settings.state ? 0 : globalConfigGeneration()) ? binding : bind();
    // The hottest case, a sync hit on a lone primitive in a partitioned local state, is answered
    // here without building an argument array or a key string.
    if (arguments.length === 1 && this === undefined && !asyncMode && b.partitioned !== undefined && settings.key === undefined) {
      const arg: unknown = arguments[0];
      if (isLoneKeyable(arg)) {
        const entry = fastPartition(b).getLone(arg);
        if (entry !== undefined) {
          counters.hits++;
          return entry.value;
        }
      }
    }
    const args: unknown[] = Array.prototype.slice.call(arguments);
    return asyncMode ? callAsync(b, this, args) : callSync(b, this, args);
  };

  /** The sync partition for calls without an instance (created on first use). */
  function fastPartition(b: Binding): LocalPartition {
    return b.partitions.sync ?? partitionFor(b, b.partitioned!, undefined, "sync");
  }

  function handleKey(thisArg: unknown, args: unknown[]): { b: Binding; key: string } {
    const b = bind();
    return { b, key: keyFor(b, thisArg, args, asyncMode ? "async" : "sync") };
  }

  /** Runs a handle's state operation sync or async, as the function is. */
  function operate<T>(b: Binding, sync: (() => T) | undefined, async: () => Promise<T>): T | Promise<T> {
    if (!asyncMode) {
      if (sync === undefined) throw syncStateRequired(b.state, name);
      return sync();
    }
    return async();
  }

  const handles: MemoizedHandles<(...args: unknown[]) => unknown> = {
    key(...args) {
      return handleKey(undefined, args).key;
    },
    invalidate(...args) {
      const { b, key } = handleKey(undefined, args);
      const deleteSync = b.state.deleteSync?.bind(b.state);
      return operate(b, deleteSync && (() => deleteSync(key)), () => b.state.delete(key)) as void;
    },
    peek(...args) {
      const { b, key } = handleKey(undefined, args);
      return operate(b, b.syncState && (() => b.syncState!.getSync(key)), () => b.state.get(key)) as
        | CacheEntry
        | undefined;
    },
    clear() {
      const b = bind();
      const state = b.state as Partial<PrefixDeletingState> & IState;
      const namespace = b.local ? identity.local(asyncMode ? "async" : "sync") : identity.shared(asyncMode ? "async" : "sync");
      if (typeof state.deletePrefix !== "function") {
        throw new ConfigError(`Mime: ${stateName(state)} cannot delete one function's entries (it has no deletePrefix)`);
      }
      const deleteSync = state.deletePrefixSync?.bind(state);
      const deleteAsync = state.deletePrefix.bind(state);
      return operate(b, deleteSync && (() => deleteSync(namespace)), () => deleteAsync(namespace)) as void;
    },
    stats() {
      const answered = counters.hits + counters.misses + counters.coalesced;
      return { ...counters, inFlight: inflight.size, hitRatio: answered === 0 ? 0 : counters.hits / answered };
    },
  };

  Object.defineProperty(memoized, "name", { value: fn.name, configurable: true });
  Object.defineProperty(memoized, "length", { value: fn.length, configurable: true });
  Object.assign(memoized, handles);
  return memoized as unknown as Memoized<F>;
}
