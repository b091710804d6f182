import type { CacheEntry, IState, SetOptions } from "./contract.js";

// The plumbing of synchronous, I/O-free hits: what a process-local state (or a shared state's local
// copy) hands to Mimic's wrappers so that a hit is a Map lookup on the argument itself. States import
// it from `@mimic/core/state-kit`; it is not part of the main entry point.

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

