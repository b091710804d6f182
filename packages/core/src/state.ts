import { StateContractError } from "./errors.js";

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

/**
 * The entries of one key namespace in a process-local state, addressed by argument rather than by
 * whole key. Optional: a local state that offers {@link PartitionedState.partition} lets Mimic's
 * wrappers hit with one `Map` lookup on the argument itself. Entries are shared with the
 * string-keyed methods: `namespace + "A1:" + encoding(arg)` is the key of `getLone(arg)`, and
 * `namespace + argumentsKey` the key of `get(argumentsKey)`.
 */
export interface LocalPartition extends LocalReader {
  /** Reads the entry of a call whose lone argument is `arg` (a value `isLoneKeyable` accepts). */
  getLone(arg: unknown): CacheEntry | undefined;
  /** Writes the entry of a call whose lone argument is `arg`; ttl in seconds, `null` = never. */
  setLone(arg: unknown, value: unknown, ttl: number | null, options?: SetOptions): void;
  /** Writes the entry of a call with exactly two keyable arguments (key `namespace + "A2:" + encodings`). */
  setPair(first: unknown, second: unknown, value: unknown, ttl: number | null, options?: SetOptions): void;
  /** Writes the entry whose key is the namespace followed by `argumentsKey`. */
  set(argumentsKey: string, value: unknown, ttl: number | null, options?: SetOptions): void;
  /** Deletes the partition's entries and forgets it (its owner is gone). */
  dispose(): void;
}

/**
 * Synchronous, I/O-free reads of the entries of one key namespace, addressed by argument: the read
 * half of a {@link LocalPartition}, and what a {@link LocallyCachedState} hands out for its local copy.
 */
export interface LocalReader {
  /** The key prefix this reader covers (ends with `|`). */
  readonly namespace: string;
  /** Reads the entry of a call whose lone argument is `arg` (a value `isLoneKeyable` accepts). */
  getLone(arg: unknown): CacheEntry | undefined;
  /** Reads the entry of a call with exactly two arguments, both values `isLoneKeyable` accepts. */
  getPair(first: unknown, second: unknown): CacheEntry | undefined;
  /**
   * Reads the entry whose key is the namespace followed by `argumentsKey`: the same entry
   * `getSync(namespace + argumentsKey)` reads, whichever index holds it.
   */
  get(argumentsKey: string): CacheEntry | undefined;
}

/**
 * Optional capability of a shared state: a process-local copy of some of its entries (e.g. Redis
 * entries kept coherent by server-assisted client-side caching), which Mimic reads synchronously
 * before asking the backend, so that a repeat hit costs no round trip and no deserialization.
 *
 * The local copy must never answer with an entry the backend no longer holds, or holds with another
 * value, once the state has learnt of the change; `undefined` from it only means "not held here",
 * and Mimic then calls {@link IState.get} (or `getSync`), which reads the backend.
 */
export interface LocallyCachedState extends IState {
  /**
   * Reads the local copy only: the entry, or `undefined` when it is not held locally (which is not
   * a miss). No I/O, never throws, never waits.
   */
  getLocal(key: string): CacheEntry | undefined;
  /** A reader of the local copy of `namespace`'s entries, by argument (for hits without a key string). */
  localReader(namespace: string): LocalReader;
}

/** Whether `state` keeps a local copy of a shared backend that Mimic may read synchronously. */
export function isLocallyCached(state: IState): state is LocallyCachedState {
  const candidate = state as Partial<LocallyCachedState>;
  return state.local !== true && typeof candidate.getLocal === "function" && typeof candidate.localReader === "function";
}

/** A process-local state that can hand out {@link LocalPartition}s. */
export interface PartitionedState extends IState {
  readonly local: true;
  /** The partition of `namespace` (a key prefix ending with `|`), created on demand. */
  partition(namespace: string): LocalPartition;
}

/** Whether `state` offers partitions. */
export function isPartitioned(state: IState): state is PartitionedState {
  return state.local === true && typeof (state as Partial<PartitionedState>).partition === "function";
}

/** What a state may accept as the 4th argument of `set`/`setSync` when it claims a capability for it. */
export interface SetOptions {
  /** Tags of the entry, for `invalidateTags` (given only to states that support tags). */
  readonly tags?: readonly string[];
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

function checkMembers(subject: unknown, members: Record<string, unknown>): void {
  for (const member of requiredMembers) {
    if (typeof members[member] !== "function") {
      throw new StateContractError(
        `State class does not implement IState interface: ${describe(subject)} has no method "${member}" ` +
          `(an IState needs get, set, delete and clear)`,
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
