import { StateClosedError, StateTimeoutError, type StateError } from "@mimic/core";
import { RESP_TYPES, type RedisArgument } from "redis";
import type { Owned, RedisClientLike, RedisClusterLike } from "./client-types.js";
import {
  createOwnedClient,
  createOwnedCluster,
  reconnectDelay,
  specFromClient,
  specFromCluster,
  specFromUrl,
  type ConnectionSpec,
} from "./connection-spec.js";
import { RedisUnavailableError, toStateError } from "./errors.js";
import type { ConnectionSource } from "./options.js";

/** Replies as `Buffer`s: entries are bytes, and keys found by `SCAN` must be deleted byte for byte. */
export const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** What a connection talks to: one client, or a cluster. */
export type Target =
  | { readonly kind: "client"; readonly client: RedisClientLike; readonly owned: (RedisClientLike & Owned) | undefined }
  | { readonly kind: "cluster"; readonly cluster: RedisClusterLike; readonly owned: (RedisClusterLike & Owned) | undefined };

/**
 * How long after the last operation that found Redis down a client of ours keeps reconnecting in the
 * background; then it stops until the next operation (which reopens it), so an idle process can exit.
 */
export const RECONNECT_WHILE_IDLE_MS = 2000;

/** Settings of a {@link RedisConnection}. */
export interface ConnectionSettings {
  /** Milliseconds per Redis round trip, the connection wait included. */
  readonly timeout: number;
  /** Background errors (connection lost, reconnect failing), once per outage. */
  readonly onError?: ((error: StateError) => void) | undefined;
}

/**
 * One connection (client or cluster) and the byte-level operations the state needs, each bounded by the
 * timeout and failing with a typed {@link StateError}. Used on the main thread for the async operations
 * and inside the worker thread for the sync ones.
 *
 * Connecting is lazy and never awaited without a bound: the first operations wait for the first
 * connection attempt (within their timeout); once an attempt has failed, operations fail at once
 * while node-redis reconnects in the background.
 */
export class RedisConnection {
  readonly #target: Target;
  readonly #spec: () => ConnectionSpec;
  readonly #timeout: number;
  readonly #onError: ((error: StateError) => void) | undefined;
  #closed = false;
  /** Set by close(): operations in flight, multi-step ones included, may still finish their steps. */
  #closing = false;
  /** Set while the first attempt of a connection we started has neither succeeded nor failed. */
  #firstAttempt: Promise<void> | undefined;
  #endFirstAttempt: (() => void) | undefined;
  /** Whether we ever called `connect()` (a borrowed client is connected at most once, by us). */
  #connectStarted = false;
  /** A cluster `connect()` of ours is in flight (the cluster says `isOpen` before it can route). */
  #clusterConnecting = false;
  #attempts = 0;
  /** Before this time (ms epoch), a closed connection of ours is not reopened (backoff). */
  #retryAt = 0;
  /** When an operation last found the connection down (ms epoch): it is wanted back. */
  #wantedAt = 0;
  #lastConnectionError: unknown;
  /** False from the first background error until the next successful connection. */
  #healthy = true;
  #pending = 0;
  #onDrained: (() => void) | undefined;
  /**
   * The SHA-1s of the scripts this connection has sent with `EVAL` (the server caches them, so later
   * calls send `EVALSHA`; one that finds the cache flushed falls back to `EVAL` again).
   */
  readonly scriptsSent = new Set<string>();

  private constructor(target: Target, spec: () => ConnectionSpec, settings: ConnectionSettings) {
    this.#target = target;
    this.#spec = spec;
    this.#timeout = settings.timeout;
    this.#onError = settings.onError;
    if (target.owned) this.#listen(target.owned);
  }

  /** A connection for the state's options; a URL gets a client of our own, a given client is borrowed. */
  static fromSource(source: ConnectionSource, settings: ConnectionSettings): RedisConnection {
    switch (source.kind) {
      case "url": {
        const spec = specFromUrl(source.url);
        let connection: RedisConnection | undefined;
        const owned = createOwnedClient(spec.options, (retries) => connection!.#reconnectIn(retries));
        // Never keeps the process alive by itself: an operation in flight does, through its timer.
        owned.unref();
        connection = new RedisConnection({ kind: "client", client: owned, owned }, () => spec, settings);
        return connection;
      }
      case "client":
        return new RedisConnection(
          { kind: "client", client: source.client, owned: undefined },
          () => specFromClient(source.client),
          settings,
        );
      case "cluster":
        return new RedisConnection(
          { kind: "cluster", cluster: source.cluster, owned: undefined },
          () => specFromCluster(source.cluster),
          settings,
        );
    }
  }

  /** A connection of our own from a spec (the worker thread's). */
  static fromSpec(spec: ConnectionSpec, settings: ConnectionSettings): RedisConnection {
    if (spec.kind === "cluster") {
      const owned = createOwnedCluster(spec.options);
      return new RedisConnection({ kind: "cluster", cluster: owned, owned }, () => spec, settings);
    }
    const owned = createOwnedClient(spec.options);
    return new RedisConnection({ kind: "client", client: owned, owned }, () => spec, settings);
  }

  /** How the worker thread opens a connection like this one. */
  spec(): ConnectionSpec {
    return this.#spec();
  }

  /** Starts connecting now instead of at the first operation (the worker does, as it boots). */
  warmUp(): void {
    if (!this.#closed && !this.#isUp()) this.#maybeConnect();
  }

  /** `GET`: the stored bytes, or `null` when the key does not exist. */
  get(redisKey: RedisArgument, label: string): Promise<Buffer | null> {
    // The hot path: no closure, no message string unless something fails.
    if (!this.#closed && this.#isUp()) {
      return this.#bounded(send(this.#target, redisKey, true, ["GET", redisKey]) as Promise<Buffer | null>, "GET", label);
    }
    return this.run("GET", label, (target) => send(target, redisKey, true, ["GET", redisKey]) as Promise<Buffer | null>);
  }

  /**
   * `GET` and `PTTL` of one key, pipelined on the connection (the local layer needs the remaining time
   * to live of what it keeps): the stored bytes or `null`, and the milliseconds left (`-1`: no expiry,
   * `-2`: the key is gone).
   */
  getWithTtl(redisKey: RedisArgument, label: string): Promise<readonly [Buffer | null, number]> {
    return this.run("GET", label, (target) =>
      Promise.all([
        send(target, redisKey, true, ["GET", redisKey]) as Promise<Buffer | null>,
        send(target, redisKey, true, ["PTTL", redisKey]) as Promise<number>,
      ]),
    );
  }

  /** `SET` (overwriting value and expiry), with `PX` when `px` is a number of milliseconds. */
  async set(redisKey: RedisArgument, bytes: Uint8Array, px: number | null, label: string): Promise<void> {
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const args: RedisArgument[] = px === null ? ["SET", redisKey, value] : ["SET", redisKey, value, "PX", String(px)];
    await this.run("SET", label, (target) => send(target, redisKey, false, args));
  }

  /** `UNLINK` of one key. */
  async delete(redisKey: RedisArgument, label: string): Promise<void> {
    await this.run("UNLINK", label, (target) => send(target, redisKey, false, ["UNLINK", redisKey]));
  }

  /**
   * Stops accepting operations, waits (at most one timeout) for those in flight, and closes the
   * connection if it is ours. A borrowed client or cluster is left open.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#endFirstAttempt?.();
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#timeout);
        this.#onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const owned = this.#target.owned;
    if (owned) {
      try {
        owned.destroy();
      } catch {
        // never connected, or already closed: nothing to release
      }
    }
    this.#closed = true;
  }

  #isUp(): boolean {
    const target = this.#target;
    if (target.kind === "client") return target.client.isReady;
    return target.cluster.isOpen && !this.#clusterConnecting;
  }

  /**
   * Counts a multi-step operation as in flight from its first step to its last, so that close()
   * waits for all of it (within its bound) rather than cutting it between two steps.
   */
  async whole<T>(operation: () => Promise<T>): Promise<T> {
    this.#pending++;
    try {
      return await operation();
    } finally {
      this.#settled();
    }
  }

  /** The clients to scan: the one client, or one per master of a cluster. */
  nodes(verb: string, label: string): Promise<RedisClientLike[]> {
    return this.run(verb, label, (target) =>
      target.kind === "cluster"
        ? Promise.all(target.cluster.masters.map((master) => target.cluster.nodeClient(master)))
        : Promise.resolve([target.client]),
    );
  }

  /** Whether this is a cluster connection (multi-key commands must then stay within one slot). */
  get isCluster(): boolean {
    return this.#target.kind === "cluster";
  }

  /** Sends `args` (routed by `redisKey` in a cluster) once connected, bounded, errors typed. */
  send(verb: string, label: string, redisKey: RedisArgument, readonly: boolean, args: ReadonlyArray<RedisArgument>): Promise<unknown> {
    return this.run(verb, label, (target) => send(target, redisKey, readonly, args));
  }

  /** Runs `command` once connected, bounded by the timeout, with errors turned into StateErrors. */
  run<T>(verb: string, label: string, command: (target: Target) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StateClosedError("RedisState"));
    let started: Promise<T>;
    if (this.#isUp()) {
      started = command(this.#target);
    } else {
      this.#wantedAt = Date.now();
      this.#maybeConnect();
      const firstAttempt = this.#firstAttempt;
      if (firstAttempt === undefined) return Promise.reject(this.#unavailable(verb, label));
      started = firstAttempt.then(() =>
        this.#isUp() ? command(this.#target) : Promise.reject(this.#unavailable(verb, label)),
      );
    }
    return this.#bounded(started, verb, label);
  }

  #bounded<T>(started: Promise<T>, verb: string, label: string): Promise<T> {
    this.#pending++;
    return new Promise<T>((resolve, reject) => {
      // Not unref'd: an awaited operation must settle even when nothing else keeps the process alive.
      const timer = setTimeout(
        () => reject(new StateTimeoutError(`Redis ${describe(verb, label)}`, this.#timeout)),
        this.#timeout,
      );
      started.then(
        (value) => {
          clearTimeout(timer);
          this.#settled();
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.#settled();
          reject(
            toStateError(error, describe(verb, label), {
              timeoutMs: this.#timeout,
              lastConnectionError: this.#lastConnectionError,
            }),
          );
        },
      );
    });
  }

  #settled(): void {
    this.#pending--;
    if (this.#pending === 0) this.#onDrained?.();
  }

  #unavailable(verb: string, label: string): RedisUnavailableError {
    const last = this.#lastConnectionError;
    const why = last instanceof Error ? last.message || last.constructor.name : last === undefined ? "not connected" : String(last);
    return new RedisUnavailableError(`Redis is unavailable for ${describe(verb, label)}: ${why} (reconnecting in the background)`, {
      cause: last,
    });
  }

  #maybeConnect(): void {
    const target = this.#target;
    if (target.kind === "client") {
      // node-redis reconnects an open client by itself while it is wanted (#reconnectIn); we open it,
      // reopen one of ours it gave up on (with backoff), and open a borrowed one only once.
      if (target.client.isOpen || (!target.owned && this.#connectStarted) || Date.now() < this.#retryAt) return;
      this.#connectStarted = true;
      if (!target.owned) this.#listen(target.client as RedisClientLike & Partial<Owned>);
      this.#attempt(() => target.client.connect());
      return;
    }
    // A cluster whose discovery failed is closed again: retry it ourselves, with backoff.
    if (target.cluster.isOpen || Date.now() < this.#retryAt || (!target.owned && this.#connectStarted)) return;
    this.#connectStarted = true;
    this.#clusterConnecting = true;
    this.#attempt(() => target.cluster.connect());
  }

  /**
   * node-redis's reconnect strategy for a client of ours: the backoff delay while the connection is
   * wanted (operations in flight, or one found it down within {@link RECONNECT_WHILE_IDLE_MS}), else
   * `false`, which stops node-redis's reconnect loop (its timer would keep an idle process alive
   * forever while Redis is down); the next operation reopens the client.
   */
  #reconnectIn(retries: number): number | false {
    if (this.#closing) return false;
    if (this.#pending > 0 || Date.now() - this.#wantedAt < RECONNECT_WHILE_IDLE_MS) return reconnectDelay(retries);
    return false;
  }

  #attempt(connect: () => Promise<unknown>): void {
    let end!: () => void;
    const firstAttempt = new Promise<void>((resolve) => (end = resolve));
    this.#firstAttempt = firstAttempt;
    this.#endFirstAttempt = () => {
      if (this.#firstAttempt === firstAttempt) {
        this.#firstAttempt = undefined;
        this.#endFirstAttempt = undefined;
      }
      end();
    };
    let connecting: Promise<unknown>;
    try {
      connecting = connect();
    } catch (error) {
      connecting = Promise.reject(error);
    }
    connecting.then(
      () => {
        this.#clusterConnecting = false;
        this.#attempts = 0;
        this.#healthy = true;
        this.#endFirstAttempt?.();
      },
      (error: unknown) => {
        this.#clusterConnecting = false;
        this.#retryAt = Date.now() + reconnectDelay(this.#attempts++);
        this.#backgroundError(error);
        this.#endFirstAttempt?.();
      },
    );
  }

  /** Listens on a client or cluster we connect: an unheard `error` event would crash the process. */
  #listen(emitter: Partial<Owned>): void {
    if (typeof emitter.on !== "function") return;
    emitter.on("error", (error: unknown) => {
      this.#backgroundError(error);
      // The first attempt has failed: later operations fail fast instead of waiting for a retry.
      this.#endFirstAttempt?.();
    });
    emitter.on("ready", () => {
      this.#healthy = true;
      this.#lastConnectionError = undefined;
    });
  }

  #backgroundError(error: unknown): void {
    this.#lastConnectionError = error;
    if (!this.#healthy || this.#closed) return;
    this.#healthy = false;
    const onError = this.#onError;
    if (onError === undefined) return;
    const reason = error instanceof Error ? error.message || error.constructor.name : String(error);
    try {
      onError(new RedisUnavailableError(`Redis connection lost or refused: ${reason} (reconnecting in the background)`, { cause: error }));
    } catch {
      // A throwing onError must not break reconnection.
    }
  }
}

/** An operation as messages name it: `GET "mimic:…"`. */
export function describe(verb: string, label: string): string {
  return `${verb} ${JSON.stringify(label)}`;
}

export function send(target: Target, redisKey: RedisArgument, readonly: boolean, args: ReadonlyArray<RedisArgument>): Promise<unknown> {
  return target.kind === "client"
    ? target.client.sendCommand(args, BUFFERS)
    : target.cluster.sendCommand(redisKey, readonly, args, BUFFERS);
}
