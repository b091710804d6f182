import type { FunctionIdentity } from "../keys/identity.js";
import type { ObjectKeyCache } from "../keys/object-key-cache.js";
import type { Settings } from "../options.js";
import type { Binding } from "./binding.js";
import type { FlightTable } from "./single-flight.js";
import type { EnvelopePolicy } from "./decision.js";

/** Counters of one memoized function, as `stats()` reports them. */
export interface Counters {
  hits: number;
  misses: number;
  coalesced: number;
  stale: number;
  errors: number;
}

/**
 * Everything the engine's parts share about one memoized function: what it is, how it is keyed,
 * where its entries live now, and its bookkeeping. One per `Mime(options)(fn)`.
 */
export interface Memo {
  readonly settings: Settings;
  readonly identity: FunctionIdentity;
  /** Shown in messages and events. */
  readonly name: string;
  /** The function as the user wrote it: what its identity names. */
  readonly fn: object;
  /**
   * Whether the caller's `this` takes part in keys: a decorated method (cached per instance), a
   * function that can read it (see `readsThis`), or a `key` or `tags` option that may. When not, every
   * call is keyed as a plain call.
   */
  readonly keysThis: boolean;
  /** What an execution calls, with the caller's `this`: the function, or a batch loader's per-item step. */
  readonly call: (this: unknown, ...args: unknown[]) => unknown;
  /** The wrapper: partitions of calls without an instance are freed with it. */
  owner: object;
  /** Whether calls are async (declared, native, or detected from a returned promise). */
  asyncMode: boolean;
  /**
   * Whether an execution in this process has returned a value that is not a promise. Until it has,
   * or until `asyncMode` is set, a function that is not declared async may be one that returns
   * promises without being `async`, whose entries (stored by other processes) are async ones: the
   * handles then act on both kinds of entries.
   */
  returnedValue: boolean;
  /** The state in use and its policy; re-resolved when the global config changes. */
  binding: Binding | undefined;
  /**
   * Stale windows and refresh ahead, when the function has any: its entries are then envelopes that
   * carry their expiry and compute time.
   */
  readonly envelope: EnvelopePolicy | undefined;
  /** Seconds an entry outlives its ttl in the state: the longest stale window. */
  readonly longestWindow: number;
  readonly counters: Counters;
  readonly flights: FlightTable;
  /** A batch loader's items: reads and writes go through `getMany`/`setMany` where the state has them. */
  readonly batched: boolean;
  /** Keys being refreshed in the background, once per key per process. */
  readonly refreshing: Set<string>;
  /**
   * The expiry each key's last background refresh replaced: a read that raced with that refresh
   * (and found the entry it replaced) does not refresh it again. Bounded (cleared past 10,000 keys).
   */
  readonly refreshed: Map<string, number>;
  /** The keys of recent calls with one object argument, for hits that encode nothing (made on first use). */
  objectKeys: ObjectKeyCache | undefined;
}
