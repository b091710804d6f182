import {
  InvalidOptionError,
  StateClosedError,
  ttlToMilliseconds,
  validateTtl,
  type CacheEntry,
  type LockingState,
  type PrefixDeletingState,
  type SetOptions,
  type TaggingState,
} from "@mimic/core";
import { type LocalReader } from "@mimic/core/state-kit";
import { randomBytes } from "node:crypto";
import { invalidateTag, performStep, releaseLease, takeLease } from "./commands.js";
import { describe, RedisConnection } from "./connection.js";
import { EntryCodec } from "./entry-codec.js";
import { heldKeyOf, lockKey, matchPattern, prefixPatterns, tagBytes, tagSetKey, toRedisKey } from "./keys.js";
import { LocalLayer, type LocalLayerStats } from "./local/local-layer.js";
import { resolveOptions, type RedisStateOptions } from "./options.js";
import {
  deleteKey,
  deleteMatching,
  getBytes,
  getBytesWithTtl,
  runAsync,
  runSync,
  setBytes,
  settleWrites,
  stepVerb,
  type RedisStep,
  type Steps,
} from "./steps.js";
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
 *
 * ```ts
 * Mime.setConfig(new Config({ state: RedisState, stateOptions: { url: "redis://127.0.0.1:6379" } }));
 * ```
 */
export class RedisState implements TaggingState, PrefixDeletingState, LockingState {
  /** The prefix of every key this state writes; `clear()` removes exactly these keys. */
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
  readonly #connection: RedisConnection;
  readonly #bridge: SyncBridge;
  /** The local layer (`local` option), or `undefined` when it is off. */
  readonly #local: LocalLayer | undefined;
  /**
   * The key {@link RedisState.getLocal} last found missing. Mimic reads the local copy, then calls
   * `get`/`getSync` for the same key at once: that read need not look at the local copy again.
   */
  #localMiss: string | undefined;
  #closed = false;
  /** Whether an operation has run (and so the local layer's tracking was started). */
  #started = false;
  /**
   * Tagged writes in flight (several round trips: tag sets, then the entry). Invalidations, deletes
   * and clears of this state wait for them first, so that a write this process started before an
   * invalidation is never stored after it (a plain SET is one command, ordered on the connection).
   */
  readonly #taggedWrites = new Set<Promise<void>>();
  readonly #performAsync = (step: RedisStep): Promise<unknown> => this.#stepAsync(step);
  readonly #performSync = (step: RedisStep): unknown => this.#stepSync(step);

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
    const settings = { timeout: resolved.timeout, onError: resolved.onError };
    this.#connection = RedisConnection.fromSource(resolved.source, settings);
    this.#bridge = new SyncBridge(() => this.#connection.spec(), resolved.timeout, resolved.onError);
    const local =
      resolved.local === undefined
        ? undefined
        : new LocalLayer(resolved.local, () => this.#connection.spec(), resolved.prefix, resolved.timeout, resolved.onError);
    this.#local = local;
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
   * @throws (rejects) StateTimeoutError, RedisUnavailableError, CorruptEntryError (bytes that are not an
   *   entry of this serializer: treat as a miss; the next `set` overwrites them), StateClosedError
   */
  get(key: string): Promise<CacheEntry | undefined> {
    if (this.#closed) return Promise.reject(new StateClosedError("RedisState"));
    return runAsync(this.#read(key), this.#performAsync);
  }

  /**
   * Synchronous {@link RedisState.get}, through the worker thread. The first synchronous call of a state
   * also waits for the worker to start (bounded, see the README).
   */
  getSync(key: string): CacheEntry | undefined {
    return runSync(this.#read(key), this.#performSync);
  }

  /**
   * Resolves when the state is ready to serve repeat hits from the local layer: Redis tracking (which
   * keeps the layer coherent) is established, so reads from then on fill the layer. Resolves at once
   * when the `local` option is off. Without it, tracking still starts with the state's first
   * operation, and the reads sent before it holds (typically the first 0.1–0.3 s of a process) go to
   * Redis without filling the layer; `await state.ready()` at start-up makes the first repeated
   * reads local hits. Also starts connecting.
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
   * `options.tags` tags the entry for {@link RedisState.invalidateTags}: the tags are written in the
   * entry and its key is added to one Redis set per tag, which lives at least as long as the entry.
   * @throws (rejects) UnserializableValueError, InvalidTagError, StateTimeoutError, RedisUnavailableError,
   *   InvalidTtlError
   */
  async set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    this.#open();
    return runAsync(this.#write(key, value, ttl, options, "set"), this.#performAsync);
  }

  /** Synchronous {@link RedisState.set}, through the worker thread. */
  setSync(key: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    runSync(this.#write(key, value, ttl, options, "setSync"), this.#performSync);
  }

  /** Removes the entry under `key`, if any. */
  async delete(key: string): Promise<void> {
    this.#open();
    return runAsync(this.#delete(key), this.#performAsync);
  }

  /** Synchronous {@link RedisState.delete}, through the worker thread. */
  deleteSync(key: string): void {
    runSync(this.#delete(key), this.#performSync);
  }

  /**
   * Removes every key under this state's prefix (`SCAN MATCH` + batched `UNLINK`, on every master of a
   * cluster); never `FLUSHDB`. Each round trip is bounded by the timeout, not the whole scan.
   */
  async clear(): Promise<void> {
    this.#open();
    return runAsync(this.#clear(), this.#performAsync);
  }

  /** Synchronous {@link RedisState.clear}, through the worker thread; blocks while the scan progresses. */
  clearSync(): void {
    runSync(this.#clear(), this.#performSync);
  }

  /**
   * Removes every entry whose key starts with `prefix`, which `fn.clear()` passes as a function's
   * namespace (ending at its first `|`): `SCAN MATCH` on the escaped state prefix and namespace, and
   * batched `UNLINK`, on every master of a cluster. Long (shortened) and lone-surrogate keys keep
   * their namespace, so they go too. Each round trip is bounded by the timeout.
   */
  async deletePrefix(prefix: string): Promise<void> {
    this.#open();
    return runAsync(this.#deletePrefix(prefix), this.#performAsync);
  }

  /** Synchronous {@link RedisState.deletePrefix}, through the worker thread. */
  deletePrefixSync(prefix: string): void {
    runSync(this.#deletePrefix(prefix), this.#performSync);
  }

  /**
   * Removes every entry that was written with any of `tags` and still carries it: the members of each
   * tag's set are popped and each entry is unlinked, on the server, only if its header lists the tag
   * (an entry written again without the tag stays). A key tagged by a write running meanwhile stays
   * listed for the next invalidation. Rejects if any round trip fails; entries may then remain.
   * Local copies (this process's and, through Redis's invalidations, every other's) of exactly the
   * keys the tag sets listed are dropped; if an invalidation fails part-way, this process's local
   * layer is dropped whole, since which entries went is then unknown.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.#open();
    const local = this.#local;
    let listed: Buffer[];
    try {
      await this.#afterTaggedWrites();
      const sets = [...new Set(tags)].map((tag) =>
        invalidateTag(this.#connection, tagSetKey(this.prefix, tag), tagBytes(tag), `tag ${tag}`),
      );
      listed = (await Promise.all(sets)).flat();
    } catch (error) {
      local?.flush();
      throw error;
    }
    // After the removals, not before: a read of one of these keys still in flight then cannot fill
    // the layer with its answer (see LocalLayer.drop), and one that already did is dropped here.
    if (local === undefined) return;
    const prefix = Buffer.from(this.prefix, "utf8");
    for (const redisKey of listed) {
      const key = heldKeyOf(prefix, redisKey);
      if (key !== undefined) local.drop(key);
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
    await Promise.all([this.#connection.close(), this.#bridge.close(), this.#local?.close()]);
  }

  /** Reads `key`: from the local layer when it holds it, else from Redis (filling the layer). */
  *#read(key: string): Steps<CacheEntry | undefined> {
    const local = this.#local;
    if (local === undefined) return yield* this.#readRedis(key);
    const skipLocal = this.#localMiss === key;
    this.#localMiss = undefined;
    if (!skipLocal) {
      const held = local.get(key);
      if (held !== undefined) return held;
    }
    const ticket = local.begin(key);
    if (ticket === undefined) return yield* this.#readRedis(key);
    let entry: CacheEntry | undefined;
    try {
      // A holdable key is well-formed and short: its Redis key is a string.
      const [bytes, pttl] = yield* getBytesWithTtl(toRedisKey(this.prefix, key) as string, key);
      entry = bytes === null ? undefined : this.#codec.decode(bytes, key);
      if (entry !== undefined) local.fill(ticket, key, entry, pttl, bytes!.length);
    } finally {
      if (entry === undefined) local.abandon(ticket);
    }
    return entry;
  }

  *#readRedis(key: string): Steps<CacheEntry | undefined> {
    const bytes = yield* getBytes(toRedisKey(this.prefix, key), key);
    return bytes === null ? undefined : this.#codec.decode(bytes, key);
  }

  *#write(key: string, value: unknown, ttl: number | null, options: SetOptions | undefined, verb: string): Steps<void> {
    const px = ttlToMilliseconds(validateTtl(ttl, `RedisState.${verb}("${key}")`));
    const redisKey = toRedisKey(this.prefix, key);
    const tags = options?.tags ?? [];
    const store = px === 0 ? deleteKey(redisKey, key) : setBytes(redisKey, key, this.#codec.encode(value, key, tags), px, this.#tagKeys(tags));
    yield* this.#changing((local) => local.drop(key), store);
  }

  *#delete(key: string): Steps<void> {
    yield* this.#changing((local) => local.drop(key), this.#afterWrites(deleteKey(toRedisKey(this.prefix, key), key)));
  }

  *#clear(): Steps<void> {
    const pattern = matchPattern(this.prefix);
    yield* this.#changing((local) => local.flush(), this.#afterWrites(deleteMatching([pattern], pattern)));
  }

  *#deletePrefix(prefix: string): Steps<void> {
    const removal = deleteMatching(prefixPatterns(this.prefix, prefix), `${prefix}*`);
    yield* this.#changing((local) => local.dropPrefix(prefix), this.#afterWrites(removal));
  }

  /** `steps` once this process's tagged writes in flight have settled. */
  *#afterWrites(steps: Steps<void>): Steps<void> {
    yield* settleWrites();
    yield* steps;
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

  #stepAsync(step: RedisStep): Promise<unknown> {
    if (!this.#started) this.#start();
    if (step.op === "settleWrites") return this.#afterTaggedWrites();
    const done = performStep(this.#connection, step);
    if (step.op === "set" && step.tagKeys.length > 0) {
      const tracked = done.then(
        () => undefined,
        () => undefined,
      );
      this.#taggedWrites.add(tracked);
      void tracked.then(() => this.#taggedWrites.delete(tracked));
    }
    return done;
  }

  #stepSync(step: RedisStep): unknown {
    if (!this.#started) this.#start();
    // A synchronous write is over when it returns: there is nothing in flight to settle.
    if (step.op === "settleWrites") return undefined;
    if (this.#closed) throw new StateClosedError("RedisState");
    return this.#bridge.call(step, describe(stepVerb(step), step.label));
  }

  /** The first operation (of any kind) starts the local layer's tracking, before the first read. */
  #start(): void {
    this.#started = true;
    this.#local?.start();
  }

  /** Resolves once the tagged writes in flight now have settled (each is bounded by the timeout). */
  async #afterTaggedWrites(): Promise<void> {
    if (this.#taggedWrites.size > 0) await Promise.all([...this.#taggedWrites]);
  }

  /** Rejects operations started after close() (those in flight may still finish their steps). */
  #open(): void {
    if (this.#closed) throw new StateClosedError("RedisState");
  }

  #tagKeys(tags: readonly string[]): Buffer[] {
    return [...new Set(tags)].map((tag) => tagSetKey(this.prefix, tag));
  }
}
