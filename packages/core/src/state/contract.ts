import { StateContractError } from "../errors.js";

/**
 * What a state returns for a hit. A miss is `undefined`; a hit whose cached value is `undefined`
 * is `{ value: undefined }`. States may add fields of their own (expiry, stale-until…).
 */
export interface CacheEntry<T = unknown> {
  /** The cached value, exactly as it was stored (or its deserialized copy, for shared states). */
  value: T;
}

/**
 * The contract every cache backend implements. Keys are strings produced by Mimic (see
 * `docs/KEY_FORMAT.md`); values are whatever the memoized function returned.
 *
 * A user's own state written to exactly this shape works with `Mime` and `Config`; run
 * `@mimic/state-test-suite` against it to prove it.
 */
export interface IState {
  /**
   * `true` when entries never leave this process (like `MemoryState`). Anything else is treated as
   * shared between processes: function identities are then stable names rather than per-wrapper
   * namespaces, and methods need a `key` option that says how `this` contributes.
   * @default undefined (shared)
   */
  readonly local?: boolean;

  /**
   * Reads an entry.
   * @returns `undefined` on a miss (absent or expired), otherwise the entry; `{ value: undefined }`
   *   is a hit whose value is `undefined`.
   * @throws or rejects on a backend failure (Mimic reports it and treats the call as a miss).
   *   A state must never resolve with a wrong or partial value.
   */
  get(key: string): Promise<CacheEntry | undefined>;

  /**
   * Stores `value` under `key`, replacing any previous entry and its expiry.
   * @param ttl seconds until the entry expires (fractions allowed); `null` means never.
   * @throws or rejects on a backend failure; a failed write must not leave a partial entry behind.
   */
  set(key: string, value: unknown, ttl: number | null): Promise<void>;

  /** Removes the entry under `key`, if any. Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /** Removes every entry this state instance owns, and nothing else (no `FLUSHDB`). */
  clear(): Promise<void>;

  /**
   * Synchronous {@link IState.get}. Optional; a synchronous memoized function needs it.
   * Same miss/hit convention; throws on a backend failure.
   */
  getSync?(key: string): CacheEntry | undefined;

  /** Synchronous {@link IState.set}. Optional; a synchronous memoized function needs it. */
  setSync?(key: string, value: unknown, ttl: number | null): void;

  /** Synchronous {@link IState.delete}. Optional. */
  deleteSync?(key: string): void;

  /** Synchronous {@link IState.clear}. Optional. */
  clearSync?(): void;

  /** Releases connections, worker threads, timers and files. Calls after `close()` may reject. */
  close?(): Promise<void>;
}

/** What a state may accept as the 4th argument of `set`/`setSync` when it claims a capability for it. */
export interface SetOptions {
  /** Tags of the entry, for `invalidateTags` (given only to states that support tags). */
  readonly tags?: readonly string[];
  /**
   * When the execution that produced this value began, in milliseconds since the epoch by this
   * process's clock, with a fraction (`preciseNow()` from `@mimic/core/state-kit`, which states
   * should stamp their invalidations with too, so that one made a moment before a call is not taken
   * for one made after it). Given only to states that declare {@link FencingState.fencesWrites}: such a
   * state must not store the value when its key was invalidated (`delete`, a `deletePrefix` covering
   * it, `clear`, or `invalidateTags` of one of `tags`) at or after that moment, by any process.
   */
  readonly startedAt?: number;
}

/**
 * Optional capability: writes are fenced by invalidations. A value whose execution began before an
 * invalidation of its key (by any process sharing the state) is never stored, so an invalidation
 * that has resolved can't be undone by a slow execution that started earlier.
 */
export interface FencingState extends IState {
  /** Always `true`: {@link SetOptions.startedAt} is honoured by `set`/`setSync`. */
  readonly fencesWrites: true;
  /** As {@link IState.set}; `options.startedAt` fences the write. */
  set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void>;
  /** As {@link IState.setSync}; `options.startedAt` fences the write. */
  setSync?(key: string, value: unknown, ttl: number | null, options?: SetOptions): void;
}

/** Whether `state` fences writes by invalidations (see {@link FencingState}). */
export function fencesWrites(state: IState): state is FencingState {
  return (state as Partial<FencingState>).fencesWrites === true;
}

/**
 * Optional capability: entries carry tags, and every entry carrying a tag can be removed at once.
 * The tag index must live in the state itself (a Redis set, an index file), so that an invalidation
 * made by one process is seen by all.
 */
export interface TaggingState extends IState {
  /** As {@link IState.set}; `options.tags` tags the entry. */
  set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void>;
  /** As {@link IState.setSync}; `options.tags` tags the entry. */
  setSync?(key: string, value: unknown, ttl: number | null, options?: SetOptions): void;
  /** Removes every entry carrying any of `tags`. */
  invalidateTags(tags: readonly string[]): Promise<void>;
}

/** Whether `state` supports tags. */
export function supportsTags(state: IState): state is TaggingState {
  return typeof (state as Partial<TaggingState>).invalidateTags === "function";
}

/** Optional capability: delete every entry under a key prefix (a function's namespace), for `fn.clear()`. */
export interface PrefixDeletingState extends IState {
  /** Removes every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** Synchronous {@link PrefixDeletingState.deletePrefix}. */
  deletePrefixSync?(prefix: string): void;
}

/** Whether `state` can delete by prefix. */
export function supportsPrefixDeletion(state: IState): state is PrefixDeletingState {
  return typeof (state as Partial<PrefixDeletingState>).deletePrefix === "function";
}

/**
 * Optional capability: a short lease on a key, so that one caller in any process runs the function
 * while the others wait for its result (`lock` option). Needed only by shared states.
 */
export interface LockingState extends IState {
  /**
   * Takes the lease on `key` for `lease` seconds if nobody holds it.
   * @returns a token proving ownership, or `undefined` when someone else holds the lease
   */
  lock(key: string, lease: number): Promise<string | undefined>;
  /** Releases the lease on `key` if `token` still holds it (an expired lease taken over is left alone). */
  unlock(key: string, token: string): Promise<void>;
}

/** Whether `state` can lease keys. */
export function supportsLocking(state: IState): state is LockingState {
  const candidate = state as Partial<LockingState>;
  return typeof candidate.lock === "function" && typeof candidate.unlock === "function";
}

/** One write of a {@link BatchWritingState.setMany}: what `set(key, value, ttl, options)` would take. */
export interface BatchEntry {
  readonly key: string;
  readonly value: unknown;
  /** Seconds until the entry expires (fractions allowed); `null` means never. */
  readonly ttl: number | null;
  /** As the 4th argument of `set` (tags, `startedAt`), given only for the capabilities the state has. */
  readonly options?: SetOptions;
}

/**
 * Optional capability: many reads in one round trip. Mimic's batch loaders (`Mime.batch`) read the
 * items of one tick with it.
 */
export interface BatchReadingState extends IState {
  /**
   * Reads many entries at once.
   * @returns one result per key, in the order of `keys`: the entry, or `undefined` for a miss (the
   *   same convention as {@link IState.get}); a key given twice gets the same answer twice.
   * @throws or rejects on a backend failure, as `get` would; never resolves with a partial answer.
   */
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]>;
}

/**
 * Optional capability: many writes in one round trip, each with its own ttl and options, as
 * `set` would store them. Mimic's batch loaders store the items of one batch with it.
 */
export interface BatchWritingState extends IState {
  /**
   * Stores every entry as {@link IState.set} would (replacing previous entries and their expiry).
   * @throws or rejects on a backend failure; entries already written may stay, but none is partial.
   */
  setMany(entries: readonly BatchEntry[]): Promise<void>;
}

/** Whether `state` reads many keys at once. */
export function supportsGetMany(state: IState): state is BatchReadingState {
  return typeof (state as Partial<BatchReadingState>).getMany === "function";
}

/** Whether `state` writes many entries at once. */
export function supportsSetMany(state: IState): state is BatchWritingState {
  return typeof (state as Partial<BatchWritingState>).setMany === "function";
}

/** A class whose instances are states; `Config` instantiates it lazily with `stateOptions`. */
export type StateClass<Options = never> = new (options: Options) => IState;

/** The members every state must have, in the order a missing one is reported. */
const requiredMembers = ["get", "set", "delete", "clear"] as const;
const optionalMembers = ["getSync", "setSync", "deleteSync", "clearSync", "close"] as const;

function describe(subject: unknown): string {
  if (typeof subject === "function") return `class ${subject.name || "(anonymous)"}`;
  if (typeof subject === "object" && subject !== null) {
    const ctor = (subject as { constructor?: { name?: string } }).constructor?.name;
    return ctor && ctor !== "Object" ? `${ctor} instance` : "object";
  }
  return String(subject);
}

/** The Python my-mimic's method names and their TypeScript names, for users porting a state. */
const pythonNames: Readonly<Record<string, string>> = {
  async_get: "get",
  async_set: "set",
  async_delete: "delete",
  async_clear: "clear",
  sync_get: "getSync",
  sync_set: "setSync",
  sync_delete: "deleteSync",
  sync_clear: "clearSync",
};

/** " (rename async_get → get, …)" when `members` uses the Python my-mimic's names. */
function pythonNamesHint(members: Record<string, unknown>): string {
  const found = Object.keys(pythonNames).filter((name) => typeof members[name] === "function");
  return found.length === 0 ? "" : `; it has the Python my-mimic's names: rename ${found.map((name) => `${name} → ${pythonNames[name]}`).join(", ")}`;
}

function checkMembers(subject: unknown, members: Record<string, unknown>): void {
  for (const member of requiredMembers) {
    if (typeof members[member] !== "function") {
      throw new StateContractError(
        `State class does not implement IState interface: ${describe(subject)} has no method "${member}" ` +
          `(an IState needs get, set, delete and clear)${pythonNamesHint(members)}`,
      );
    }
  }
  for (const member of optionalMembers) {
    const value = members[member];
    if (value !== undefined && typeof value !== "function") {
      throw new StateContractError(
        `State class does not implement IState interface: ${describe(subject)} has "${member}" but it is ` +
          `${typeof value}, not a method`,
      );
    }
  }
}

/**
 * Throws a {@link StateContractError} naming the first missing member unless `state` implements
 * {@link IState}.
 */
export function assertIsState(state: unknown): asserts state is IState {
  if (typeof state !== "object" || state === null) {
    throw new StateContractError(`State class does not implement IState interface: ${describe(state)} is not an object`);
  }
  checkMembers(state, state as Record<string, unknown>);
}

/** Like {@link assertIsState}, on a class's prototype, without instantiating it. */
export function assertIsStateClass(stateClass: unknown): asserts stateClass is StateClass<unknown> {
  if (typeof stateClass !== "function" || typeof stateClass.prototype !== "object") {
    throw new StateContractError(`State class does not implement IState interface: ${describe(stateClass)} is not a class`);
  }
  checkMembers(stateClass, stateClass.prototype as Record<string, unknown>);
}

/** A state whose synchronous reads and writes are available. */
export type SyncCapableState = IState & Required<Pick<IState, "getSync" | "setSync">>;

/** Whether `state` can serve a synchronous memoized function. */
export function hasSyncOperations(state: IState): state is SyncCapableState {
  return typeof state.getSync === "function" && typeof state.setSync === "function";
}

/** A short name for a state in messages: its class name. */
export function stateName(state: IState): string {
  return (state as { constructor?: { name?: string } }).constructor?.name || "state";
}
