import type { RedisArgument } from "redis";

/**
 * Every operation of the state is written once, as a generator that yields the Redis round trips it
 * needs ("steps") and receives their results; {@link runAsync} carries the steps out on the state's
 * own connection, {@link runSync} through the worker thread while the caller blocks. Sync and async
 * memoized functions thus share one implementation of each operation.
 *
 * Keys are Redis keys: strings, or bytes for a key that holds a lone surrogate. Steps cross to the
 * worker thread by structured clone, so they carry plain data only.
 */
export type RedisStep =
  /** `GET`: the bytes, or `null` on a miss. */
  | { readonly op: "get"; readonly key: string | Uint8Array; readonly label: string }
  /** `GET` and `PTTL` of one key, pipelined (for the local layer): `[bytes | null, pttl]`. */
  | { readonly op: "getWithTtl"; readonly key: string; readonly label: string }
  /** `SET` with `PX` (or none). */
  | {
      readonly op: "set";
      readonly key: string | Uint8Array;
      readonly label: string;
      readonly bytes: Uint8Array;
      readonly px: number | null;
    }
  /**
   * Before a tagged or fenced write: the server's time and each record's stamp, `{ now, stamps }`
   * (decimal microseconds; "" for a missing fence). `records` are the tag records (a missing one is
   * created, see CHECK_RECORDS, and kept at least `px` ms), then `fences`.
   */
  | {
      readonly op: "checkRecords";
      readonly records: ReadonlyArray<Uint8Array>;
      readonly fences: ReadonlyArray<Uint8Array>;
      /** The state's tag epoch (tagEpochKey). */
      readonly epoch: Uint8Array;
      readonly px: number | null;
      readonly label: string;
    }
  /**
   * A fenced write on one server (not a cluster), atomic with its check: stores `bytes` only if no
   * record (tag records, then fences) is stamped at or after `start`. Answers whether it stored.
   */
  | (FencedEntry & { readonly op: "fencedSet"; readonly epoch: Uint8Array; readonly label: string })
  /**
   * Many fenced writes on one server (not a cluster), in one atomic script: each stored only if none
   * of its records is stamped at or after its `start`, as `fencedSet` would. Answers one boolean
   * (stored) per write.
   */
  | {
      readonly op: "fencedSetMany";
      readonly writes: ReadonlyArray<FencedEntry>;
      readonly epoch: Uint8Array;
      readonly label: string;
    }
  /**
   * Stamps records with the server's time (an invalidation), keeping each at least `retainMs`; with
   * `epoch` (tags), stamps the state's tag epoch too.
   */
  | {
      readonly op: "stamp";
      readonly records: ReadonlyArray<Uint8Array>;
      readonly retainMs: number;
      readonly epoch?: Uint8Array;
      readonly label: string;
    }
  /**
   * The offset of the server's clock (the node holding `route`, a record key) from this process's:
   * server microseconds minus local milliseconds × 1000, at most the true offset (see
   * measureClockOffset). Concurrent asynchronous writes share one measurement.
   */
  | { readonly op: "clockOffset"; readonly route: Uint8Array; readonly label: string }
  /** The stamps of tag records, `(string | null)[]` (`null`: the record is missing). */
  | { readonly op: "tagStamps"; readonly records: ReadonlyArray<Uint8Array>; readonly label: string }
  /** Unlinks `key` only if it still holds exactly `bytes` (a stale entry nobody rewrote since). */
  | { readonly op: "deleteIfEqual"; readonly key: string | Uint8Array; readonly bytes: Uint8Array; readonly label: string }
  /** `UNLINK` of one key. */
  | { readonly op: "delete"; readonly key: string | Uint8Array; readonly label: string }
  /** `SCAN MATCH` + `UNLINK` of every key matching one of `patterns`, on every master. */
  | {
      readonly op: "clear";
      readonly patterns: ReadonlyArray<string | Uint8Array>;
      readonly label: string;
      /** Keys starting with these bytes are kept (the state's fences survive a clear). */
      readonly keep?: Uint8Array;
    }
  /**
   * Waits for this process's multi-step writes in flight (an invalidation must not be overtaken by
   * a write that began before it). Needs no round trip; the sync driver has nothing to wait for.
   */
  | { readonly op: "settleWrites" };

/** One fenced write's entry: stored under `key` (`PX` `px`) only if no record is stamped at or after `start`. */
export interface FencedEntry {
  readonly key: string | Uint8Array;
  readonly bytes: Uint8Array;
  readonly px: number | null;
  /** When the value's execution began, server microseconds. */
  readonly start: number;
  /** Its tags' records (checked, and created when missing). */
  readonly records: ReadonlyArray<Uint8Array>;
  /** The fences covering its key. */
  readonly fences: ReadonlyArray<Uint8Array>;
}

/** An operation: yields steps, receives their results, sees their errors thrown where they were yielded. */
export type Steps<T> = Generator<RedisStep, T, unknown>;

/** The verb that names a step in messages, as in `GET "mimic:f|…"`. */
export function stepVerb(step: RedisStep): string {
  switch (step.op) {
    case "get":
    case "getWithTtl":
      return "GET";
    case "set":
      return "SET";
    case "checkRecords":
      return "EVALSHA check-records";
    case "fencedSet":
      return "EVALSHA fenced-set";
    case "fencedSetMany":
      return "EVALSHA fenced-set";
    case "stamp":
      return "EVALSHA stamp-records";
    case "clockOffset":
      return "TIME";
    case "tagStamps":
      return "GET tag records";
    case "deleteIfEqual":
      return "EVALSHA unlink-if-equal";
    case "delete":
      return "UNLINK";
    case "clear":
      return "SCAN MATCH";
    case "settleWrites":
      return "settle writes";
  }
}

/** `GET`: the stored bytes, or `null` when the key does not exist. */
export function* getBytes(key: string | Uint8Array, label: string): Steps<Uint8Array | null> {
  return (yield { op: "get", key, label }) as Uint8Array | null;
}

/** `GET` and `PTTL`: the bytes (`null`: none) and the milliseconds left (`-1` no expiry, `-2` gone). */
export function* getBytesWithTtl(key: string, label: string): Steps<readonly [Uint8Array | null, number]> {
  return (yield { op: "getWithTtl", key, label }) as readonly [Uint8Array | null, number];
}

/** Stores `bytes` under `key`, expiring after `px` ms (`null`: never). */
export function* setBytes(key: string | Uint8Array, label: string, bytes: Uint8Array, px: number | null): Steps<void> {
  yield { op: "set", key, label, bytes, px };
}

/** Reads (creating missing tag records) records before a write: the server's time and the stamps. */
export function* checkRecords(
  records: ReadonlyArray<Uint8Array>,
  fences: ReadonlyArray<Uint8Array>,
  epoch: Uint8Array,
  px: number | null,
  label: string,
): Steps<{ readonly now: string; readonly stamps: readonly string[] }> {
  return (yield { op: "checkRecords", records, fences, epoch, px, label }) as { readonly now: string; readonly stamps: readonly string[] };
}

/** A fenced write on one server, atomic with its check: whether it stored. */
export function* fencedSet(
  key: string | Uint8Array,
  label: string,
  bytes: Uint8Array,
  px: number | null,
  start: number,
  records: ReadonlyArray<Uint8Array>,
  fences: ReadonlyArray<Uint8Array>,
  epoch: Uint8Array,
): Steps<boolean> {
  return (yield { op: "fencedSet", key, label, bytes, px, start, records, fences, epoch }) as boolean;
}

/** Stamps records with the server's time (and, given, the state's tag epoch). */
export function* stampRecords(records: ReadonlyArray<Uint8Array>, retainMs: number, label: string, epoch?: Uint8Array): Steps<void> {
  yield epoch === undefined ? { op: "stamp", records, retainMs, label } : { op: "stamp", records, retainMs, label, epoch };
}

/** The offset of the server's clock from this process's (of the node holding `route`), see {@link RedisStep}. */
export function* clockOffset(route: Uint8Array, label: string): Steps<number> {
  return (yield { op: "clockOffset", route, label }) as number;
}

/** The stamps of tag records (`null`: missing). */
export function* tagStamps(records: ReadonlyArray<Uint8Array>, label: string): Steps<ReadonlyArray<string | null>> {
  return (yield { op: "tagStamps", records, label }) as ReadonlyArray<string | null>;
}

/** Unlinks `key` if it still holds exactly `bytes`. */
export function* deleteIfEqual(key: string | Uint8Array, bytes: Uint8Array, label: string): Steps<void> {
  yield { op: "deleteIfEqual", key, bytes, label };
}

/** Unlinks `key`. */
export function* deleteKey(key: string | Uint8Array, label: string): Steps<void> {
  yield { op: "delete", key, label };
}

/** Unlinks every key matching one of `patterns`, except those starting with `keep`. */
export function* deleteMatching(patterns: ReadonlyArray<string | Uint8Array>, label: string, keep?: Uint8Array): Steps<void> {
  yield keep === undefined ? { op: "clear", patterns, label } : { op: "clear", patterns, label, keep };
}

/** Waits for this process's multi-step writes in flight (asynchronous operations only). */
export function* settleWrites(): Steps<void> {
  yield { op: "settleWrites" };
}

/** A key as node-redis takes it: bytes from the worker's message arrive as a plain Uint8Array. */
export function toArgument(key: string | Uint8Array): RedisArgument {
  return typeof key === "string" ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** Runs an operation synchronously: `perform` carries out each step (or throws its error). */
export function runSync<T>(steps: Steps<T>, perform: (step: RedisStep) => unknown): T {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = perform(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/**
 * Runs an operation asynchronously: `perform` carries out each step. One promise reaction per step
 * and none for an operation that needs no round trip; nothing is ever thrown synchronously.
 */
export function runAsync<T>(steps: Steps<T>, perform: (step: RedisStep) => Promise<unknown>): Promise<T> {
  try {
    return advance(steps, perform, steps.next());
  } catch (error) {
    return Promise.reject(error);
  }
}

function advance<T>(
  steps: Steps<T>,
  perform: (step: RedisStep) => Promise<unknown>,
  next: IteratorResult<RedisStep, T>,
): Promise<T> {
  if (next.done) return Promise.resolve(next.value);
  let started: Promise<unknown>;
  try {
    started = perform(next.value);
  } catch (error) {
    started = Promise.reject(error);
  }
  return started.then(
    (result) => advance(steps, perform, steps.next(result)),
    (error: unknown) => advance(steps, perform, steps.throw(error)),
  );
}
