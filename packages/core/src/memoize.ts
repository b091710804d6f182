import type { ErrorContext, ErrorHandler, StateOperation } from "./config.js";
import { ConfigError, InvalidOptionError, MimicError, StateError, UnsupportedArgumentError } from "./errors.js";
import { anyoneListening, channels } from "./events.js";
import { getGlobalConfig, globalConfigGeneration } from "./global-config.js";
import { claimSharedIdentity, type FunctionIdentity, identify } from "./keys/identity.js";
import { type CallKind, encodeArguments, encodeCustomKey, isLoneKeyable } from "./keys/encode.js";
import type { Settings } from "./options.js";
import {
  type CacheEntry,
  hasSyncOperations,
  type IState,
  type SetOptions,
  stateName,
  supportsLocking,
  supportsPrefixDeletion,
  supportsTags,
  type LockingState,
  type SyncCapableState,
  type TaggingState,
} from "./state/contract.js";
import {
  isLocallyCached,
  isPartitioned,
  type LocalPartition,
  type LocalReader,
  type LocallyCachedState,
  type PartitionedState,
} from "./state/local-access.js";
import { type Envelope, envelope, freshness, openEnvelope } from "./stale.js";
import { registerTaggedState, trackWrite } from "./tags.js";

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

/**
 * Handles on a memoized function: sync for a sync function, promises for an async one. On a
 * decorated method they act on the instance they are read from (`user.find.invalidate(id)`).
 * Backend failures throw or reject here: an invalidation that did not happen is never silent.
 */
export interface MemoizedHandles<F extends (...args: never[]) => unknown> {
  /** Removes the entry of this call, if any. */
  invalidate(...args: Parameters<F>): SyncOrAsync<F, void>;
  /** Reads the entry of this call without calling the function; `undefined` on a miss. */
  peek(...args: Parameters<F>): SyncOrAsync<F, CacheEntry<Settled<F>> | undefined>;
  /** The key this call is stored under in the current state. */
  key(...args: Parameters<F>): string;
  /**
   * Removes every entry of this function (of this instance, for a method in a process-local state),
   * and no other function's. Needs a state with `deletePrefix`.
   */
  clear(): SyncOrAsync<F, void>;
  /** Counters since the function was wrapped (over all instances, for a method). */
  stats(): MimeStats;
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
  /** Set when the state is shared but keeps a local copy that is read before the backend. */
  readonly layered: LocallyCachedState | undefined;
  /** This wrapper's partitions for calls without an instance, by call kind, created on first use. */
  readonly partitions: { sync?: LocalPartition; async?: LocalPartition };
  /** Per-instance partitions of a method, held weakly. */
  readonly instancePartitions: WeakMap<object, { sync?: LocalPartition; async?: LocalPartition }>;
  /**
   * The partitions (or, for a shared state with a local copy, its readers) a call with one or two
   * primitive arguments and no `this` reads directly, by call kind, when the function and state
   * allow that shortcut (see the wrapper). The sync one is cleared if the function turns out to be
   * async.
   */
  fastSync: LocalReader | undefined;
  readonly fastAsync: LocalReader | undefined;
}

/** Where a call's entry lives: a partition slot (local fast path) or a key in the state. */
type Slot =
  | { partition: LocalPartition; shape: "lone"; index: unknown }
  | { partition: LocalPartition; shape: "pair"; index: readonly [unknown, unknown] }
  | { partition: LocalPartition; shape: "encoded"; index: string }
  | { partition: undefined; key: string };

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

/** The common keyable primitives (numbers but -0, short strings), checked inline on the hit path. */
function isFastKeyable(value: unknown): boolean {
  return (typeof value === "number" && (value !== 0 || 1 / value > 0)) || (typeof value === "string" && value.length <= 256);
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

function tagsUnsupported(state: IState, name: string): ConfigError {
  return new ConfigError(
    `Mime: "${name}" has a \`tags\` option but its state (${stateName(state)}) cannot tag entries ` +
      `(it has no invalidateTags).`,
  );
}

const now = (): number => performance.now();

/**
 * Wraps `fn` so that calls are answered from a state by their key. The engine behind `Mime`.
 * @throws InvalidOptionError / ConfigError at wrap time when the options cannot work
 */
export function memoize<F extends (...args: never[]) => unknown>(fn: F, settings: Settings): Memoized<F> {
  // Stale windows: entries carry their freshness and live in the state for the ttl plus the window.
  const staleWindow = Math.max(settings.staleWhileRevalidate, settings.staleIfError);
  const enveloped = staleWindow > 0;
  const identity: FunctionIdentity = identify(fn, settings.name, settings.version, enveloped);
  const name = identity.name;
  const call = fn as unknown as (this: unknown, ...args: unknown[]) => unknown;
  let asyncMode = settings.async || isNativeAsync(fn);
  const inflight = new Map<string, Promise<unknown>>();
  /** Writes of results already returned to their callers, by key (shared states, not strict). */
  const writes = new Map<string, Promise<void>>();
  const counters = { hits: 0, misses: 0, coalesced: 0, stale: 0, errors: 0 };
  const ttl = settings.ttl;
  const stateTtl = enveloped ? ttl! + staleWindow : ttl;
  const tagsOf = settings.tags;
  const lockSettings = settings.lock;
  /** Keys being refreshed in the background (stale-while-revalidate), once per key per process. */
  const refreshing = new Set<string>();
  let binding: Binding | undefined;

  if (!asyncMode) {
    const sync = settings.state ? hasSyncOperations(settings.state) : getGlobalConfig().peekStateShape().sync;
    if (!sync) throw syncStateRequired(settings.state ?? getGlobalConfig().getState(), name);
  }
  if (tagsOf !== undefined && settings.state !== undefined) {
    if (!supportsTags(settings.state)) throw tagsUnsupported(settings.state, name);
    registerTaggedState(settings.state);
  }

  function currentBinding(): Binding {
    const generation = settings.state ? 0 : globalConfigGeneration();
    return binding !== undefined && binding.generation === generation ? binding : bind(generation);
  }

  function bind(generation: number): Binding {
    const config = getGlobalConfig();
    const state = settings.state ?? config.getState();
    if (tagsOf !== undefined) {
      if (!supportsTags(state)) throw tagsUnsupported(state, name);
      registerTaggedState(state);
    }
    binding = {
      generation,
      state,
      syncState: hasSyncOperations(state) ? state : undefined,
      local: state.local === true,
      onError: settings.onError ?? config.onError,
      strict: settings.strict ?? config.strict,
      partitioned: isPartitioned(state) ? state : undefined,
      layered: isLocallyCached(state) ? state : undefined,
      partitions: {},
      instancePartitions: new WeakMap(),
      fastSync: undefined,
      fastAsync: undefined,
    };
    if (binding.partitioned !== undefined && !enveloped && settings.key === undefined) {
      if (!asyncMode) binding.fastSync = partitionFor(binding, binding.partitioned, undefined, "sync");
      (binding as { fastAsync: LocalReader }).fastAsync = partitionFor(binding, binding.partitioned, undefined, "async");
    } else if (binding.layered !== undefined && !enveloped && settings.key === undefined) {
      // A miss in the local copy is not a miss: the wrapper then takes the full path, which asks the backend.
      if (!asyncMode) binding.fastSync = binding.layered.localReader(identity.shared("sync"));
      (binding as { fastAsync: LocalReader }).fastAsync = binding.layered.localReader(identity.shared("async"));
    }
    if (lockSettings !== undefined && !binding.local && !supportsLocking(state)) {
      throw new ConfigError(
        `Mime: "${name}" has a \`lock\` option but its state (${stateName(state)}) cannot lease keys (it has no lock/unlock)`,
      );
    }
    if (!binding.local) {
      claimSharedIdentity(identity.shared("sync"), fn, name);
      claimSharedIdentity(identity.shared("async"), fn, name);
    }
    return binding;
  }

  // ---- events -------------------------------------------------------------------------------

  function publish(
    channel: (typeof channels)[keyof typeof channels],
    b: Binding,
    slot: Slot,
    started: number,
  ): void {
    if (!channel.hasSubscribers) return;
    channel.publish({ functionName: name, key: slotKey(slot), state: stateName(b.state), duration: now() - started });
  }

  /** Reports a backend error; rethrows it when strict. */
  function absorb(raw: unknown, operation: StateOperation, slot: Slot | undefined, b: Binding, started = 0): void {
    counters.errors++;
    const key = slot === undefined ? undefined : slotKey(slot);
    const context: ErrorContext =
      key === undefined ? { functionName: name, operation, state: b.state } : { functionName: name, operation, key, state: b.state };
    const error = toMimicError(raw, context);
    if (channels.error.hasSubscribers) {
      channels.error.publish({ functionName: name, key: key ?? "", state: stateName(b.state), duration: started ? now() - started : 0, error, operation });
    }
    if (b.strict) throw error;
    report(b, error, context);
  }

  function report(b: Binding, error: MimicError, context: ErrorContext): void {
    try {
      (b.onError ?? warnAboutAbsorbedError)(error, context);
    } catch {
      // An error handler that throws must not turn a cache problem into a failed call.
    }
  }

  /** Reports an error of the function itself that a stale value covered (never thrown). */
  function reportCovered(b: Binding, slot: Slot, raw: unknown, code: "MIMIC_STALE_FALLBACK" | "MIMIC_REFRESH_FAILED"): void {
    const message = raw instanceof Error ? raw.message : String(raw);
    const what = code === "MIMIC_STALE_FALLBACK" ? "the stale value was returned instead" : "the stale value stays until its window ends";
    const error = new MimicError(code, `"${name}" failed (${message}); ${what}`, { cause: raw });
    report(b, error, { functionName: name, operation: "get", key: slotKey(slot), state: b.state });
  }

  /** Stale-if-error: the last value when there is one in the window, else the function's error. */
  function coverWithStale(b: Binding, slot: Slot, fallback: Envelope | undefined, error: unknown): unknown {
    if (fallback === undefined) throw error;
    serveStale(b, slot, "fallback");
    reportCovered(b, slot, error, "MIMIC_STALE_FALLBACK");
    return fallback.value;
  }

  function serveStale(b: Binding, slot: Slot, reason: "revalidate" | "fallback"): void {
    counters.stale++;
    if (channels.stale.hasSubscribers) {
      channels.stale.publish({ functionName: name, key: slotKey(slot), state: stateName(b.state), duration: 0, reason });
    }
  }

  // ---- keys ---------------------------------------------------------------------------------

  function namespaceFor(b: Binding, thisArg: unknown, kind: CallKind): string {
    const instance = instanceOf(thisArg);
    if (b.local) return identity.local(kind, instance);
    if (instance !== undefined && settings.key === undefined) {
      throw new ConfigError(
        `Mime: "${name}" was called with \`this\` (${instance.constructor?.name ?? typeof instance}) on a shared ` +
          `state (${stateName(b.state)}), where entries outlive the instance. Pass a \`key\` option that says how ` +
          `\`this\` contributes, e.g. Mime({ key(this: User, id) { return [this.id, id]; } }).`,
      );
    }
    return identity.shared(kind);
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

  /** Where this call's entry lives. */
  function slotFor(b: Binding, thisArg: unknown, args: unknown[], kind: CallKind): Slot {
    if (b.partitioned !== undefined) {
      const partition = partitionFor(b, b.partitioned, thisArg, kind);
      // One or two primitive arguments index the partition by their own values.
      if (settings.key === undefined && args.length <= 2 && args.length > 0 && args.every(isLoneKeyable)) {
        return args.length === 1
          ? { partition, shape: "lone", index: args[0] }
          : { partition, shape: "pair", index: [args[0], args[1]] };
      }
      return { partition, shape: "encoded", index: argumentsKey(thisArg, args) };
    }
    return { partition: undefined, key: keyFor(b, thisArg, args, kind) };
  }

  function slotKey(slot: Slot): string {
    if (slot.partition === undefined) return slot.key;
    if (slot.shape === "encoded") return slot.partition.namespace + slot.index;
    const args = slot.shape === "lone" ? [slot.index] : slot.index;
    return slot.partition.namespace + encodeArguments(args, name);
  }

  // ---- state operations, sync ---------------------------------------------------------------

  /**
   * Reads a slot synchronously; with `localCopyOnly`, only a shared state's local copy (no I/O), where
   * `undefined` means "not held there" rather than a miss. A failure is reported and reads as `undefined`.
   */
  function readSync(b: Binding, slot: Slot, localCopyOnly = false): CacheEntry | undefined {
    const started = anyoneListening() ? now() : 0;
    try {
      const entry =
        slot.partition === undefined
          ? localCopyOnly
            ? b.layered!.getLocal(slot.key)
            : b.syncState!.getSync(slot.key)
          : slot.shape === "lone"
            ? slot.partition.getLone(slot.index)
            : slot.shape === "pair"
              ? slot.partition.getPair(slot.index[0], slot.index[1])
              : slot.partition.get(slot.index);
      if (entry !== undefined && started) publish(channels.hit, b, slot, started);
      return entry;
    } catch (error) {
      absorb(error, "get", slot, b, started);
      return undefined;
    }
  }

  /** What is stored for a result: the value, or its envelope when stale windows are on. */
  function stored(value: unknown): unknown {
    return enveloped ? envelope(value, ttl!) : value;
  }

  function writeSync(b: Binding, slot: Slot, result: unknown, options: SetOptions | undefined, timed: boolean): void {
    const value = stored(result);
    const started = timed ? now() : 0;
    try {
      if (slot.partition === undefined) writeToState(b.syncState!, "setSync", slot.key, value, stateTtl, options);
      else if (slot.shape === "lone") slot.partition.setLone(slot.index, value, stateTtl, options);
      else if (slot.shape === "pair") slot.partition.setPair(slot.index[0], slot.index[1], value, stateTtl, options);
      else slot.partition.set(slot.index, value, stateTtl, options);
      if (started) publish(channels.set, b, slot, started);
    } catch (error) {
      absorb(error, "set", slot, b, started);
    }
  }

  /** Tags of a call, checked, or undefined without a `tags` option. */
  function tagsFor(thisArg: unknown, args: unknown[]): SetOptions | undefined {
    if (tagsOf === undefined) return undefined;
    const tags = tagsOf.apply(thisArg, args);
    if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
      throw new InvalidOptionError(`Mime: the \`tags\` option of "${name}" must return an array of strings, got ${JSON.stringify(tags) ?? String(tags)}`);
    }
    return { tags };
  }

  function callSync(b: Binding, thisArg: unknown, args: unknown[]): unknown {
    if (b.syncState === undefined) throw syncStateRequired(b.state, name);
    if (lockSettings !== undefined && !b.local) {
      throw new ConfigError(`Mime: "${name}" has a \`lock\` option, which needs an async function (waiting for another process cannot be synchronous)`);
    }
    const slot = slotFor(b, thisArg, args, "sync");
    const entry = readSync(b, slot);
    let fallback: Envelope | undefined;
    if (entry !== undefined) {
      if (!enveloped) {
        counters.hits++;
        return entry.value;
      }
      const found = openEnvelope(entry.value);
      const state = found === undefined ? "gone" : freshness(found, settings.staleWhileRevalidate, settings.staleIfError);
      if (state === "fresh") {
        counters.hits++;
        return found!.value;
      }
      if (state === "revalidate") {
        serveStale(b, slot, "revalidate");
        refreshSyncLater(b, slot, thisArg, args);
        return found!.value;
      }
      if (state === "fallback") fallback = found;
    }
    const options = tagsFor(thisArg, args);
    counters.misses++;
    const started = anyoneListening() ? now() : 0;
    let result: unknown;
    try {
      result = call.apply(thisArg, args);
    } catch (error) {
      return coverWithStale(b, slot, fallback, error);
    }
    if (isThenable(result)) return becomeAsync(b, thisArg, args, result, options);
    writeSync(b, slot, result, options, started !== 0);
    if (started) publish(channels.miss, b, slot, started);
    return result;
  }

  /** Stale-while-revalidate for a sync function: the refresh runs on the next turn of the event loop. */
  function refreshSyncLater(b: Binding, slot: Slot, thisArg: unknown, args: unknown[]): void {
    const key = slotKey(slot);
    if (refreshing.has(key)) return;
    refreshing.add(key);
    setImmediate(() => {
      try {
        const options = tagsFor(thisArg, args);
        counters.misses++;
        const result = call.apply(thisArg, args);
        if (isThenable(result)) {
          Promise.resolve(result).then(
            () => reportCovered(b, slot, new TypeError("the function returned a promise during a background refresh"), "MIMIC_REFRESH_FAILED"),
            (error: unknown) => reportCovered(b, slot, error, "MIMIC_REFRESH_FAILED"),
          );
          return;
        }
        writeSync(b, slot, result, options, anyoneListening());
      } catch (error) {
        reportCovered(b, slot, error, "MIMIC_REFRESH_FAILED");
      } finally {
        refreshing.delete(key);
      }
    });
  }

  /** The function turned out to return promises: from now on it is keyed and cached as async. */
  function becomeAsync(b: Binding, thisArg: unknown, args: unknown[], result: PromiseLike<unknown>, options: SetOptions | undefined): Promise<unknown> {
    asyncMode = true;
    b.fastSync = undefined;
    const slot = slotFor(b, thisArg, args, "async");
    return fly(slotKey(slot), settle(b, slot, Promise.resolve(result), options, anyoneListening() ? now() : 0));
  }

  // ---- state operations, async --------------------------------------------------------------

  function callAsync(b: Binding, thisArg: unknown, args: unknown[]): Promise<unknown> {
    try {
      const slot = slotFor(b, thisArg, args, "async");
      // A process-local state answers without a round trip, so an async call reads it synchronously;
      // so does the local copy of a shared state (where not finding the entry is not yet a miss).
      const readsLocally = b.local && (slot.partition !== undefined || b.syncState !== undefined);
      let fallback: Envelope | undefined;
      if (readsLocally || b.layered !== undefined) {
        const entry = readSync(b, slot, !readsLocally);
        if (entry !== undefined) {
          if (!enveloped) {
            counters.hits++;
            return Promise.resolve(entry.value);
          }
          const judged = judge(b, slot, entry, thisArg, args);
          if (judged !== undefined && !("fallback" in judged)) return Promise.resolve(judged.value);
          fallback = judged?.fallback;
        }
      }
      const key = slotKey(slot);
      const pending = inflight.get(key);
      if (pending !== undefined) {
        counters.coalesced++;
        return pending;
      }
      return fly(key, lookupThenRun(b, slot, thisArg, args, !readsLocally, fallback));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * An enveloped entry of an async function: a fresh or revalidating value to return (the refresh
   * started), a fallback to keep for when the function fails, or `undefined` when it is gone.
   */
  function judge(b: Binding, slot: Slot, entry: CacheEntry, thisArg: unknown, args: unknown[]): { value: unknown } | { fallback: Envelope } | undefined {
    const found = openEnvelope(entry.value);
    const state = found === undefined ? "gone" : freshness(found, settings.staleWhileRevalidate, settings.staleIfError);
    if (state === "fresh") {
      counters.hits++;
      return { value: found!.value };
    }
    if (state === "revalidate") {
      serveStale(b, slot, "revalidate");
      refreshInBackground(b, slot, thisArg, args);
      return { value: found!.value };
    }
    return state === "fallback" ? { fallback: found! } : undefined;
  }

  /** Stale-while-revalidate for an async function: one refresh per key per process (and across processes with `lock`). */
  function refreshInBackground(b: Binding, slot: Slot, thisArg: unknown, args: unknown[]): void {
    const key = slotKey(slot);
    // Deduplicated by `refreshing` alone: this is often called from inside the very flight that
    // found the stale entry, which is about to return it.
    if (refreshing.has(key)) return;
    refreshing.add(key);
    const refresh = async (): Promise<void> => {
      const token = lockApplies(b) ? await tryLock(b, slot, key) : null;
      if (token === undefined) return; // another process holds the lease and refreshes
      try {
        await runAndStore(b, slot, thisArg, args, tagsFor(thisArg, args));
      } finally {
        if (token !== null) releaseLock(b, slot, key, token);
      }
    };
    refresh()
      .catch((error: unknown) => reportCovered(b, slot, error, "MIMIC_REFRESH_FAILED"))
      .finally(() => refreshing.delete(key));
  }

  async function lookupThenRun(
    b: Binding,
    slot: Slot,
    thisArg: unknown,
    args: unknown[],
    lookup: boolean,
    fallback: Envelope | undefined,
  ): Promise<unknown> {
    let readFailed = false;
    if (lookup && slot.partition === undefined) {
      const started = anyoneListening() ? now() : 0;
      let entry: CacheEntry | undefined;
      try {
        entry = await b.state.get(slot.key);
      } catch (error) {
        absorb(error, "get", slot, b, started);
        readFailed = true;
      }
      if (entry !== undefined) {
        if (started) publish(channels.hit, b, slot, started);
        if (!enveloped) {
          counters.hits++;
          return entry.value;
        }
        const judged = judge(b, slot, entry, thisArg, args);
        if (judged !== undefined && !("fallback" in judged)) return judged.value;
        fallback = judged?.fallback;
      }
    }
    const options = tagsFor(thisArg, args);
    try {
      return lockApplies(b)
        ? await runLocked(b, slot, thisArg, args, options)
        : await runAndStore(b, slot, thisArg, args, options, readFailed);
    } catch (error) {
      return coverWithStale(b, slot, fallback, error);
    }
  }

  /** Runs the function and stores its result (see {@link settle} for `readFailed`). */
  function runAndStore(
    b: Binding,
    slot: Slot,
    thisArg: unknown,
    args: unknown[],
    options: SetOptions | undefined,
    readFailed = false,
  ): Promise<unknown> {
    counters.misses++;
    return settle(b, slot, call.apply(thisArg, args), options, anyoneListening() ? now() : 0, readFailed);
  }

  // ---- cross-process single-flight (lock) ---------------------------------------------------

  function lockApplies(b: Binding): boolean {
    return lockSettings !== undefined && !b.local;
  }

  /** Takes the lease: its token, `undefined` when another holds it, or `null` when the state failed (run unlocked). */
  async function tryLock(b: Binding, slot: Slot, key: string): Promise<string | undefined | null> {
    try {
      return await (b.state as LockingState).lock(key, lockSettings!.lease);
    } catch (error) {
      absorb(error, "lock", slot, b);
      return null;
    }
  }

  function releaseLock(b: Binding, slot: Slot, key: string, token: string): void {
    (b.state as LockingState).unlock(key, token).catch((error: unknown) => {
      try {
        absorb(error, "unlock", slot, b);
      } catch {
        // strict: the call already has its value; a lease that outlives it expires by itself.
      }
    });
  }

  /**
   * On a miss: take the lease and run the function, or wait (polling with backoff) for the holder's
   * result; take over if the holder's lease expires; after `timeout`, or if the state fails, run it.
   */
  async function runLocked(b: Binding, slot: Slot, thisArg: unknown, args: unknown[], options: SetOptions | undefined): Promise<unknown> {
    const key = slotKey(slot);
    const deadline = Date.now() + lockSettings!.timeout * 1000;
    let delay = 20;
    for (;;) {
      const token = await tryLock(b, slot, key);
      if (token === null) break;
      if (token !== undefined) {
        try {
          // The previous holder may have stored the value between our miss and our lease.
          const stored = await readFresh(b, slot, key).catch((error: unknown) => {
            if (b.strict) throw error;
            return undefined; // reported; run the function
          });
          if (stored !== undefined) {
            counters.coalesced++;
            return stored.value;
          }
          return await runAndStore(b, slot, thisArg, args, options);
        } finally {
          releaseLock(b, slot, key, token);
        }
      }
      const wait = Math.min(delay, deadline - Date.now());
      if (wait <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 1.5, 250);
      let value: { value: unknown } | undefined;
      try {
        value = await readFresh(b, slot, key);
      } catch (error) {
        if (b.strict) throw error;
        break; // the state failed (reported): run the function
      }
      if (value !== undefined) {
        counters.coalesced++;
        return value.value;
      }
    }
    return runAndStore(b, slot, thisArg, args, options);
  }

  /** Reads the entry and returns its value if it is fresh; a state failure is reported and rethrown. */
  async function readFresh(b: Binding, slot: Slot, key: string): Promise<{ value: unknown } | undefined> {
    let entry: CacheEntry | undefined;
    try {
      entry = await b.state.get(slot.partition === undefined ? slot.key : key);
    } catch (error) {
      absorb(error, "get", slot, b);
      throw error;
    }
    return entry === undefined ? undefined : freshValue(entry);
  }

  /** The value of an entry if it is fresh (plain entries always are). */
  function freshValue(entry: CacheEntry): { value: unknown } | undefined {
    if (!enveloped) return { value: entry.value };
    const found = openEnvelope(entry.value);
    return found !== undefined && freshness(found, 0, 0) === "fresh" ? { value: found.value } : undefined;
  }

  /** Registers a flight so concurrent callers of the same key share it; forgets it once settled. */
  function fly(key: string, flight: Promise<unknown>): Promise<unknown> {
    inflight.set(key, flight);
    const land = (): void => {
      // While the result is still being written, later callers keep joining the settled flight
      // rather than reading the state before the write lands.
      const writing = writes.get(key);
      const forget = (): void => {
        if (inflight.get(key) === flight) inflight.delete(key);
      };
      if (writing === undefined) forget();
      else void writing.then(forget);
    };
    flight.then(land, land);
    return flight;
  }

  /**
   * Awaits the function's result and stores it; a rejection is passed on and never stored. The
   * caller normally gets its value once the write is done (so a returned call is a stored entry).
   * When this call's read just failed, the backend is likely down or hung: the caller gets its
   * value at once and the write finishes in the background, so that a call never waits for two
   * backend timeouts (later callers join the settled flight until the write lands).
   */
  async function settle(
    b: Binding,
    slot: Slot,
    result: unknown,
    options: SetOptions | undefined,
    started: number,
    readFailed = false,
  ): Promise<unknown> {
    const value = await result;
    if (slot.partition !== undefined) {
      writeSync(b, slot, value, options, started !== 0);
      if (started) publish(channels.miss, b, slot, started);
      return value;
    }
    const write = writeAsync(b, slot, value, options, started);
    // Strict mode must see the write's error, and a lease must outlast the write, or waiters would
    // find nothing and run the function again.
    if (!readFailed || b.strict || lockApplies(b)) {
      await write;
      return value;
    }
    const key = slot.key;
    const done = write.finally(() => {
      if (writes.get(key) === done) writes.delete(key);
    });
    writes.set(key, done);
    trackWrite(done);
    return value;
  }

  async function writeAsync(b: Binding, slot: Slot & { partition: undefined }, value: unknown, options: SetOptions | undefined, started: number): Promise<void> {
    const writeStarted = started ? now() : 0;
    try {
      await writeToState(b.state, "set", slot.key, stored(value), stateTtl, options);
      if (writeStarted) publish(channels.set, b, slot, writeStarted);
    } catch (error) {
      absorb(error, "set", slot, b, writeStarted);
    }
    if (started) publish(channels.miss, b, slot, started);
  }

  // ---- the wrapper --------------------------------------------------------------------------

  const memoized = function (this: unknown, first?: unknown, second?: unknown): unknown {
    // The hottest case, a hit on a lone number or short string in a process-local partition,
    // is answered here with no argument array, no key string and no nested call but the Map lookup
    // (the shortcut exists only for functions without stale windows and without `key`).
    // `arguments` is only read for its length and forwarded, so V8 never materialises it here.
    const fast = asyncMode ? binding?.fastAsync : binding?.fastSync;
    const arity = arguments.length;
    if (fast !== undefined && arity <= 2 && this === undefined && (settings.state !== undefined || binding!.generation === globalConfigGeneration())) {
      if (isFastKeyable(first) && (arity === 1 || isFastKeyable(second))) {
        const entry = arity === 1 ? fast.getLone(first) : fast.getPair(first, second);
        if (entry !== undefined && !channels.hit.hasSubscribers) {
          counters.hits++;
          return asyncMode ? Promise.resolve(entry.value) : entry.value;
        }
      }
    }
    return (callWithArguments as (this: unknown, ...args: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
  };

  /** Every call but the shortcut above. */
  function callWithArguments(this: unknown, ...args: unknown[]): unknown {
    let b: Binding;
    try {
      b = currentBinding();
    } catch (error) {
      if (asyncMode) return Promise.reject(error);
      throw error;
    }
    return asyncMode ? callAsync(b, this, args) : callSync(b, this, args);
  }

  // ---- handles ------------------------------------------------------------------------------

  /** Runs a handle's state operation sync or async, as the function is. */
  function operate<T>(b: Binding, sync: (() => T) | undefined, async: () => Promise<T>): T | Promise<T> {
    if (asyncMode) return async();
    if (sync === undefined) throw syncStateRequired(b.state, name);
    return sync();
  }

  /** The handles acting on calls made with `thisArg` (undefined for a plain function). */
  function handlesFor(thisArg: unknown): MemoizedHandles<(...args: unknown[]) => unknown> {
    const keyOf = (b: Binding, args: unknown[]): string => keyFor(b, thisArg, args, asyncMode ? "async" : "sync");
    return {
      key(...args) {
        return keyOf(currentBinding(), args);
      },
      invalidate(...args) {
        const b = currentBinding();
        const key = keyOf(b, args);
        const { state } = b;
        // A result still being written would land after the delete: wait for it first.
        const deleteAfterWrite = async (): Promise<void> => {
          await writes.get(key);
          await state.delete(key);
        };
        return operate(b, state.deleteSync && (() => state.deleteSync!(key)), deleteAfterWrite) as void;
      },
      peek(...args) {
        const b = currentBinding();
        const key = keyOf(b, args);
        const { state, syncState } = b;
        return operate(b, syncState && (() => syncState.getSync(key)), () => state.get(key)) as CacheEntry | undefined;
      },
      clear() {
        const b = currentBinding();
        const { state } = b;
        if (!supportsPrefixDeletion(state)) {
          throw new ConfigError(`Mime: ${stateName(state)} cannot delete one function's entries (it has no deletePrefix)`);
        }
        const namespace = namespaceFor(b, b.local ? thisArg : undefined, asyncMode ? "async" : "sync");
        const deleteAfterWrites = async (): Promise<void> => {
          await Promise.all(writes.values());
          await state.deletePrefix(namespace);
        };
        return operate(b, state.deletePrefixSync && (() => state.deletePrefixSync!(namespace)), deleteAfterWrites) as void;
      },
      stats() {
        const answered = counters.hits + counters.misses + counters.coalesced;
        return { ...counters, inFlight: inflight.size, hitRatio: answered === 0 ? 0 : counters.hits / answered };
      },
    };
  }

  Object.defineProperty(memoized, "name", { value: fn.name, configurable: true });
  Object.defineProperty(memoized, "length", { value: fn.length, configurable: true });
  Object.assign(memoized, handlesFor(undefined));
  methodBinders.set(memoized, (instance: object) => {
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return (memoized as (...callArgs: unknown[]) => unknown).apply(instance, args);
    };
    Object.defineProperty(bound, "name", { value: fn.name, configurable: true });
    Object.defineProperty(bound, "length", { value: fn.length, configurable: true });
    return Object.assign(bound, handlesFor(instance));
  });
  return memoized as unknown as Memoized<F>;
}

/**
 * Calls a state's `set`/`setSync`, passing `options` only when there is something to pass, so that a
 * third-party state without capabilities sees exactly the three arguments of `IState`.
 */
function writeToState<M extends "set" | "setSync">(
  state: IState,
  method: M,
  key: string,
  value: unknown,
  ttl: number | null,
  options: SetOptions | undefined,
): ReturnType<TaggingState[M] & ((...args: never[]) => unknown)> {
  const write = state[method] as (key: string, value: unknown, ttl: number | null, options?: SetOptions) => never;
  return options === undefined ? write.call(state, key, value, ttl) : write.call(state, key, value, ttl, options);
}

/**
 * For decorated methods: makes, for an instance, a function that calls the method on it and whose
 * handles act on that instance.
 */
const methodBinders = new WeakMap<object, (instance: object) => unknown>();

/** The per-instance binder of a memoized method (see {@link methodBinders}). */
export function methodBinder(memoized: object): ((instance: object) => unknown) | undefined {
  return methodBinders.get(memoized);
}
