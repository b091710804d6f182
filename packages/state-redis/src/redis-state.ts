import { StateClosedError, ttlToMilliseconds, validateTtl, type CacheEntry, type IState } from "@mimic/core";
import { RedisConnection } from "./connection.js";
import { EntryCodec } from "./entry-codec.js";
import { matchPattern, toRedisKey } from "./keys.js";
import { resolveOptions, type RedisStateOptions } from "./options.js";
import { SyncBridge } from "./sync/bridge.js";

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
export class RedisState implements IState {
  /** The prefix of every key this state writes; `clear()` removes exactly these keys. */
  readonly prefix: string;
  /** Milliseconds each Redis round trip may take. */
  readonly timeout: number;
  readonly #codec: EntryCodec;
  readonly #connection: RedisConnection;
  readonly #bridge: SyncBridge;
  #closed = false;

  /**
   * Creates the state; nothing connects until the first operation.
   * @throws ConfigError when no `url`, `REDIS_URL` or `client` says where Redis is, or both `url` and
   *   `client` are given; InvalidOptionError for a malformed or unknown option.
   */
  constructor(options: RedisStateOptions = {}) {
    const resolved = resolveOptions(options);
    this.prefix = resolved.prefix;
    this.timeout = resolved.timeout;
    this.#codec = new EntryCodec(resolved.serializer);
    const settings = { timeout: resolved.timeout, onError: resolved.onError };
    this.#connection = RedisConnection.fromSource(resolved.source, settings);
    this.#bridge = new SyncBridge(() => this.#connection.spec(), resolved.timeout, resolved.onError);
  }

  /**
   * Reads an entry: `undefined` on a miss, `{ value }` on a hit (`{ value: undefined }` is a hit).
   * @throws (rejects) StateTimeoutError, RedisUnavailableError, CorruptEntryError (bytes that are not an
   *   entry of this serializer: treat as a miss; the next `set` overwrites them), StateClosedError
   */
  get(key: string): Promise<CacheEntry | undefined> {
    // Not an async function: the hit path is one promise chain shorter (it is measured against a raw
    // GET). The try keeps the promise contract: nothing is ever thrown synchronously.
    try {
      return this.#connection
        .get(toRedisKey(this.prefix, key), key)
        .then((bytes) => (bytes === null ? undefined : this.#codec.decode(bytes, key)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Stores `value`, replacing any entry and its expiry. `ttl` in seconds becomes `PX` milliseconds
   * (rounded up); `null` never expires; `0` removes the entry (it would be expired at once).
   * @throws (rejects) UnserializableValueError, StateTimeoutError, RedisUnavailableError, InvalidTtlError
   */
  async set(key: string, value: unknown, ttl: number | null): Promise<void> {
    const px = ttlToMilliseconds(validateTtl(ttl, `RedisState.set("${key}")`));
    const redisKey = toRedisKey(this.prefix, key);
    if (px === 0) return this.#connection.delete(redisKey, key);
    return this.#connection.set(redisKey, this.#codec.encode(value, key), px, key);
  }

  /** Removes the entry under `key`, if any. */
  async delete(key: string): Promise<void> {
    return this.#connection.delete(toRedisKey(this.prefix, key), key);
  }

  /**
   * Removes every key under this state's prefix (`SCAN MATCH` + batched `UNLINK`, on every master of a
   * cluster); never `FLUSHDB`. Each round trip is bounded by the timeout, not the whole scan.
   */
  async clear(): Promise<void> {
    return this.#connection.clear(matchPattern(this.prefix));
  }

  /**
   * Synchronous {@link RedisState.get}, through the worker thread. The first synchronous call of a state
   * also waits for the worker to start (bounded, see the README).
   */
  getSync(key: string): CacheEntry | undefined {
    const bytes = this.#sync({ op: "get", key: toRedisKey(this.prefix, key), label: key }, "GET", key);
    return bytes === null ? undefined : this.#codec.decode(bytes, key);
  }

  /** Synchronous {@link RedisState.set}, through the worker thread. */
  setSync(key: string, value: unknown, ttl: number | null): void {
    const px = ttlToMilliseconds(validateTtl(ttl, `RedisState.setSync("${key}")`));
    const redisKey = toRedisKey(this.prefix, key);
    if (px === 0) {
      this.#sync({ op: "delete", key: redisKey, label: key }, "UNLINK", key);
      return;
    }
    const bytes = this.#codec.encode(value, key);
    this.#sync({ op: "set", key: redisKey, label: key, bytes, px }, "SET", key);
  }

  /** Synchronous {@link RedisState.delete}, through the worker thread. */
  deleteSync(key: string): void {
    this.#sync({ op: "delete", key: toRedisKey(this.prefix, key), label: key }, "UNLINK", key);
  }

  /** Synchronous {@link RedisState.clear}, through the worker thread; blocks while the scan progresses. */
  clearSync(): void {
    const pattern = matchPattern(this.prefix);
    this.#sync({ op: "clear", pattern }, "SCAN MATCH", pattern);
  }

  /**
   * Waits (at most one timeout) for operations in flight, then closes the connection this state opened
   * and stops the worker thread, so the process can exit by itself. A client or cluster passed in
   * `client` stays open: it is yours to close. Later calls reject with StateClosedError.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#connection.close(), this.#bridge.close()]);
  }

  #sync(request: Parameters<SyncBridge["call"]>[0], verb: string, label: string): Uint8Array | null {
    if (this.#closed) throw new StateClosedError("RedisState");
    return this.#bridge.call(request, `${verb} ${JSON.stringify(label)}`);
  }
}
