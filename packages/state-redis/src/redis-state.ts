import {
  InvalidOptionError,
  StateClosedError,
  ttlToMilliseconds,
  validateTtl,
  type BatchEntry,
  type BatchReadingState,
  type BatchWritingState,
  type CacheEntry,
  type LockingState,
  type PrefixDeletingState,
  type FencingState,
  type SetOptions,
  type TaggingState,
} from "@mimic/core";
import { type LocalReader } from "@mimic/core/state-kit";
import { randomBytes } from "node:crypto";
import { releaseLease, takeLease } from "./commands.js";
import { RedisConnection } from "./connection.js";
import { EntryCodec } from "./entry-codec.js";
import { readFromRedis, readThroughLayer, type EntryReader } from "./entry-reads.js";
import { fencePrefix, lockKey, matchPattern, prefixPatterns, tagId, tagRecordKey, toRedisKey } from "./keys.js";
import { LocalLayer, type LocalLayerStats } from "./local/local-layer.js";
import { resolveOptions, type RedisStateOptions } from "./options.js";
import { FenceKeys, invalidating, prefixFence, writeFenced } from "./fences.js";
import { ServerClock } from "./server-clock.js";
import { RECORD_RETAIN_MS, tagsAsBytes, writeTagged } from "./tag-records.js";
import { deleteKey, deleteMatching, setBytes, stampRecords, type Steps } from "./steps.js";
import { StepRunner } from "./step-runner.js";
import { SyncBridge } from "./sync/bridge.js";
import { WORKER_BOOT_ALLOWANCE_MS } from "./sync/host.js";

/**
 * A Mimic state on Redis or Redis Cluster (node-redis 5), shared by every process that uses the same
 * server and prefix. Sync and async memoized functions both work: the synchronous operations run on a
 * worker thread while the caller blocks with a deadline.
 *
 * Every operation is bounded by `timeout` (first connection included) and fails with a typed
 * `StateError` (`RedisUnavailableError`, `StateTimeoutError`, `CorruptEntryError`…); `Mime` reports it
 * and runs the function instead (fail-open). While Redis is down, operations fail at once and the
 * connection is retried in the background (backoff capped at one second).
 * @example Mime.setConfig(new Config({ state: RedisState, stateOptions: { url: process.env.REDIS_URL } }));
 */
export class RedisState implements TaggingState, PrefixDeletingState, LockingState, FencingState, BatchReadingState, BatchWritingState {
  /**
   * A `set`/`setSync` given `startedAt` is not stored if its key was invalidated (`delete`, a covering
   * `deletePrefix`, `clear`, `invalidateTags` of one of its tags) at or after that moment, by any
   * process (README: "Invalidation fences").
   */
  readonly fencesWrites = true as const;
  /** The prefix of every key this state writes; `clear()` removes these keys (invalidation fences aside). */
  readonly prefix: string;
  /** Milliseconds each Redis round trip may take. */
  readonly timeout: number;
  /**
   * The entry the local layer holds for `key`, without any I/O: `undefined` when the layer does not
   * hold it (which is not a miss: {@link RedisState.get} then asks Redis). Mimic calls it before `get`.
   *
   * Present only when the `local` option is on (the member is `undefined` otherwise), so that a state
   * without the layer does not claim the local-copy capability.
   */
  readonly getLocal: ((key: string) => CacheEntry | undefined) | undefined;
  /**
   * Reads of the local layer by argument for one key namespace, for Mimic's fast path (one or two
   * primitive arguments). Present only when the `local` option is on, like {@link RedisState.getLocal}.
   */
  readonly localReader: ((namespace: string) => LocalReader) | undefined;
  readonly #codec: EntryCodec;
  /** The prefix and codec, as the read routines take them. */
  readonly #reader: EntryReader;
  readonly #connection: RedisConnection;
  readonly #bridge: SyncBridge;
  /** The local layer (`local` option), or `undefined` when it is off. */
  readonly #local: LocalLayer | undefined;
  /** The key `getLocal` last missed: Mimic's `get` of it right after need not look locally again. */
  #localMiss: string | undefined;
  #closed = false;
  readonly #run: StepRunner;
  /** This process's clock converted to the server's that stamps invalidations (for `startedAt`). */
  readonly #clock: ServerClock;
  /** The record keys of fenced writes, built once where they can be. */
  readonly #fenceKeys: FenceKeys;
  readonly #cluster: boolean;

  /**
   * Creates the state; nothing connects until the first operation.
   * @throws ConfigError when no `url`, `REDIS_URL` or `client` says where Redis is, or both `url` and
   *   `client` are given; InvalidOptionError for a malformed or unknown option.
   */
  constructor(options: RedisStateOptions = {}) {
    const resolved = resolveOptions(options);
    this.prefix = resolved.prefix;
    this.timeout = resolved.timeout;
    this.#codec = new EntryCodec(resolved.serializer, resolved.secret, resolved.prefix);
    this.#reader = { prefix: resolved.prefix, codec: this.#codec };
    const settings = { timeout: resolved.timeout, onError: resolved.onError };
    this.#connection = RedisConnection.fromSource(resolved.source, settings);
    this.#bridge = new SyncBridge(() => this.#connection.spec(), resolved.timeout, resolved.onError);
    const local =
      resolved.local === undefined
        ? undefined
        : new LocalLayer(resolved.local, () => this.#connection.spec(), resolved.prefix, resolved.timeout, resolved.onError);
    this.#local = local;
    this.#clock = new ServerClock(fencePrefix(resolved.prefix));
    this.#fenceKeys = new FenceKeys(resolved.prefix);
    this.#cluster = resolved.source.kind === "cluster";
    // The first operation of any kind starts the local layer's tracking, before the first read.
    this.#run = new StepRunner(this.#connection, this.#bridge, () => local?.start());
    if (local === undefined) {
      this.getLocal = undefined;
      this.localReader = undefined;
    } else {
      this.getLocal = (key) => {
        const held = local.get(key);
        this.#localMiss = held === undefined ? key : undefined;
        return held;
      };
      this.localReader = (namespace) => local.reader(namespace);
    }
  }

  /**
   * Reads an entry: `undefined` on a miss, `{ value }` on a hit (`{ value: undefined }` is a hit).
   * Reads of one tick go to Redis together, as one `MGET` per cluster slot.
   * @throws (rejects) StateTimeoutError, RedisUnavailableError, CorruptEntryError (bytes that are not an
   *   entry of this serializer: treat as a miss; the next `set` overwrites them), StateClosedError
   */
  get(key: string): Promise<CacheEntry | undefined> {
    if (this.#closed) return Promise.reject(new StateClosedError("RedisState"));
    return this.#run.async(this.#read(key));
  }

  /**
   * Synchronous {@link RedisState.get}, through the worker thread. The first synchronous call of a state
   * also waits for the worker to start (bounded, see the README).
   */
  getSync(key: string): CacheEntry | undefined {
    return this.#run.sync(this.#read(key));
  }

  /**
   * Resolves once Redis tracking (which keeps the local layer coherent) holds, so reads from then on
   * fill the layer; at once when `local` is off. Tracking starts with the first operation anyway, but
   * reads sent before it holds (the first 0.1–0.3 s of a process) go to Redis: `await state.ready()`
   * at start-up makes the first repeated reads local hits. Also starts connecting.
   * @throws (rejects) StateTimeoutError when tracking is not established within
   *   {@link WORKER_BOOT_ALLOWANCE_MS} + `timeout` (Redis down, or older than 6): reads then go to
   *   Redis as without the layer, and tracking keeps trying; SyncWorkerError when the worker thread
   *   cannot start; StateClosedError after close()
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new StateClosedError("RedisState"));
    this.#connection.warmUp();
    return this.#local === undefined ? Promise.resolve() : this.#local.ready(WORKER_BOOT_ALLOWANCE_MS + this.timeout);
  }

  /**
   * Counts of the local layer (`local` option), or `undefined` when it is off: whether tracking holds,
   * entries and bytes held, how many times the layer was dropped, how many keys were invalidated.
   */
  localStats(): LocalLayerStats | undefined {
    return this.#local?.stats();
  }

  /**
   * Stores `value`, replacing any entry, its expiry and its tags. `ttl` in seconds becomes `PX`
   * milliseconds (rounded up); `null` never expires; `0` removes the entry (it would be expired at once).
   * `options.tags` tags the entry for {@link RedisState.invalidateTags}: the tags and the entry's
   * start are written in the entry, and each tag's record is read first (created if missing, kept at
   * least as long as the entry); an entry is only served while all its tags' records exist and were
   * stamped before its start (see the README's "Tags" section).
   * @throws (rejects) UnserializableValueError, InvalidTagError, StateTimeoutError, RedisUnavailableError,
   *   InvalidTtlError
   */
  async set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    this.#open();
    const write = this.#run.async(this.#write(key, value, ttl, options, "set"));
    if (options?.tags !== undefined && options.tags.length > 0) this.#run.track(write);
    return write;
  }

  /**
   * Reads many entries, each as `get` would: the local layer first, the rest with the other reads of
   * this tick as one `MGET` per cluster slot (see the README's "Batched reads").
   */
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }
  /**
   * Stores many entries, each as `set` would (its own `PX` expiry, tags and fence), sent in one
   * pipeline; on one server the fenced writes of one tick are one script (see the README's
   * "Batched writes"), and they share one measurement of the server's clock. An entry that cannot be
   * stored (a value that does not serialize, an invalid ttl) does not stop the others: the first
   * such error rejects once every write has settled.
   */
  async setMany(entries: readonly BatchEntry[]): Promise<void> {
    const writes = await Promise.allSettled(entries.map(({ key, value, ttl, options }) => this.set(key, value, ttl, options)));
    for (const write of writes) if (write.status === "rejected") throw write.reason;
  }

  /** Synchronous {@link RedisState.set}, through the worker thread. */
  setSync(key: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    this.#run.sync(this.#write(key, value, ttl, options, "setSync"));
  }

  /** Removes the entry under `key`, if any. */
  async delete(key: string): Promise<void> {
    this.#open();
    return this.#run.async(this.#delete(key));
  }

  /** Synchronous {@link RedisState.delete}, through the worker thread. */
  deleteSync(key: string): void {
    this.#run.sync(this.#delete(key));
  }

  /**
   * Removes every key under this state's prefix except its invalidation fences, after stamping the
   * state's fence (so that no write whose execution began before it lands) (`SCAN MATCH` + batched `UNLINK`, on every master of a
   * cluster); never `FLUSHDB`. Each round trip is bounded by the timeout, not the whole scan.
   */
  async clear(): Promise<void> {
    this.#open();
    return this.#run.async(this.#clear());
  }

  /** Synchronous {@link RedisState.clear}, through the worker thread; blocks while the scan progresses. */
  clearSync(): void {
    this.#run.sync(this.#clear());
  }

  /**
   * Removes every entry whose key starts with `prefix`, which `fn.clear()` passes as a function's
   * namespace (ending at its first `|`): `SCAN MATCH` on the escaped state prefix and namespace, and
   * batched `UNLINK`, on every master of a cluster. Long (shortened) and lone-surrogate keys keep
   * their namespace, so they go too. Each round trip is bounded by the timeout.
   */
  async deletePrefix(prefix: string): Promise<void> {
    this.#open();
    return this.#run.async(this.#deletePrefix(prefix));
  }

  /** Synchronous {@link RedisState.deletePrefix}, through the worker thread. */
  deletePrefixSync(prefix: string): void {
    this.#run.sync(this.#deletePrefix(prefix));
  }

  /**
   * Makes every entry written with any of `tags` stale, in every process: the tags' records are
   * stamped with the Redis server's time (one script), and an entry whose start
   * is not before its tags' stamps is never served again (it is deleted when next read, or expires).
   * Atomic and safe to retry: if it rejects (connection lost), calling it again stamps every tag. Entries written later with the tag are fresh. Local copies carrying a tag are
   * dropped in this process at once and in every other as Redis reports the record's change.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.#open();
    const unique = tagsAsBytes(tags);
    const local = this.#local;
    try {
      await this.#run.settled();
      if (unique.length > 0) {
        const records = unique.map((tag) => tagRecordKey(this.prefix, tag));
        await this.#run.async(stampRecords(records, RECORD_RETAIN_MS, `tags ${JSON.stringify(tags)}`, this.#fenceKeys.epoch));
      }
    } finally {
      // After the stamps (failed or not), not before: a read still in flight cannot fill the layer
      // with an entry it judged fresh before a stamp (see LocalLayer.dropTag).
      if (local !== undefined) for (const tag of unique) local.dropTag(tagId(tag));
    }
  }

  /**
   * Takes the lease on `key` for `lease` seconds if nobody holds it (`SET <prefix>\xfelock:<key>
   * <token> NX PX`), for `Mime`'s `lock` option.
   * @returns a random token that proves ownership, or `undefined` when another caller holds the lease
   * @throws (rejects) InvalidOptionError for a lease that is not a positive number of seconds;
   *   StateTimeoutError, RedisUnavailableError…
   */
  async lock(key: string, lease: number): Promise<string | undefined> {
    this.#open();
    if (typeof lease !== "number" || !Number.isFinite(lease) || lease <= 0) {
      throw new InvalidOptionError(`RedisState.lock("${key}"): lease must be a positive number of seconds, got ${String(lease)}`);
    }
    const token = randomBytes(16).toString("hex");
    const held = await takeLease(this.#connection, lockKey(this.prefix, key), token, Math.ceil(lease * 1000), key);
    return held ? token : undefined;
  }

  /** Releases the lease on `key` if `token` still holds it (a Lua compare-and-delete); else does nothing. */
  async unlock(key: string, token: string): Promise<void> {
    this.#open();
    return releaseLease(this.#connection, lockKey(this.prefix, key), token, key);
  }

  /**
   * Waits (at most one timeout) for operations in flight, then closes the connection this state opened
   * and stops the worker thread, so the process can exit by itself. A client or cluster passed in
   * `client` stays open: it is yours to close. Later calls reject with StateClosedError.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#run.close();
    await Promise.all([this.#connection.close(), this.#bridge.close(), this.#local?.close()]);
  }

  /** Reads `key`: through the local layer when it is on, else from Redis. */
  #read(key: string): Steps<CacheEntry | undefined> {
    const local = this.#local;
    if (local === undefined) return readFromRedis(this.#reader, key);
    // getLocal just missed this key: no need to look again.
    const lookLocally = this.#localMiss !== key;
    this.#localMiss = undefined;
    return readThroughLayer(this.#reader, local, key, lookLocally);
  }

  *#write(key: string, value: unknown, ttl: number | null, options: SetOptions | undefined, verb: string): Steps<void> {
    const px = ttlToMilliseconds(validateTtl(ttl, `RedisState.${verb}("${key}")`));
    const redisKey = toRedisKey(this.prefix, key);
    const tags = options?.tags ?? [];
    const startedAt = options?.startedAt;
    let store: Steps<unknown>;
    if (px === 0) store = deleteKey(redisKey, key);
    else if (typeof startedAt === "number" && Number.isFinite(startedAt)) {
      const fenced = { cluster: this.#cluster, redisKey, label: key, tags, px, build: this.#codec.prepare(value, key, tags) };
      store = writeFenced(this.#fenceKeys, this.#clock, fenced, startedAt);
    } else if (tags.length === 0) store = setBytes(redisKey, key, this.#codec.encode(value, key), px);
    else store = writeTagged(this.prefix, redisKey, key, tagsAsBytes(tags), px, this.#codec.prepare(value, key, tags), undefined);
    yield* this.#changing((local) => local.drop(key), store);
  }

  *#delete(key: string): Steps<void> {
    const fence = this.#fenceKeys.key(key);
    yield* this.#changing((local) => local.drop(key), invalidating(fence, key, deleteKey(toRedisKey(this.prefix, key), key)));
  }

  *#clear(): Steps<void> {
    const pattern = matchPattern(this.prefix);
    // The fences stay: they must outlive the flights they refuse.
    const removal = deleteMatching([pattern], pattern, fencePrefix(this.prefix));
    yield* this.#changing((local) => local.flush(), invalidating(this.#fenceKeys.state, pattern, removal));
  }

  *#deletePrefix(prefix: string): Steps<void> {
    const label = `${prefix}*`;
    const removal = deleteMatching(prefixPatterns(this.prefix, prefix), label);
    yield* this.#changing((local) => local.dropPrefix(prefix), invalidating(prefixFence(this.prefix, prefix), label, removal));
  }

  /**
   * Runs a write that changes what the local layer may hold, with `drop` applied to the layer before it
   * (reads in flight cannot fill it back) and after it, failed or not (reads sent meanwhile may have).
   */
  *#changing<T>(drop: (local: LocalLayer) => void, write: Steps<T>): Steps<T> {
    const local = this.#local;
    if (local === undefined) return yield* write;
    drop(local);
    try {
      return yield* write;
    } finally {
      drop(local);
    }
  }

  /** Rejects operations started after close() (those in flight may still finish their steps). */
  #open(): void {
    if (this.#closed) throw new StateClosedError("RedisState");
  }
}
