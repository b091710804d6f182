import { MemoryState, StateClosedError, StateTimeoutError, type CacheEntry, type StateError } from "@mimic/core";
import { type LocalReader } from "@mimic/core/state-kit";
import { MessageChannel, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { ConnectionSpec } from "../connection-spec.js";
import { SyncWorkerError } from "../errors.js";
import { isWellFormedText, MAX_KEY_LENGTH } from "../keys.js";
import { WorkerHost } from "../sync/host.js";
import type { TrackingEvent } from "../sync/protocol.js";
import type { ResolvedLocalOptions } from "./local-options.js";

/** What a read from Redis must carry to fill the layer: the layer's state when the read was sent. */
export interface FillTicket {
  readonly generation: number;
  readonly sequence: number;
  /** `Date.now()` when the read was sent: the entry's Redis TTL is counted from here (never later). */
  readonly sentAt: number;
}

/** Counts of the local layer, for diagnostics and tests. */
export interface LocalLayerStats {
  /** Whether Redis tracking is established, so that reads fill the layer. */
  readonly tracking: boolean;
  /** Entries held (expired ones not yet swept included). */
  readonly entries: number;
  /** Serialized bytes of the entries held, as counted for `maxBytes`. */
  readonly bytes: number;
  /** Times the whole layer was dropped because tracking was lost (or Redis flushed). */
  readonly flushes: number;
  /** Keys dropped on an invalidation from Redis. */
  readonly invalidations: number;
}

/** After failing to start the worker thread, how long reads go to Redis before the next attempt. */
const RETRY_AFTER_MS = 10_000;

let nextSession = 1;

/**
 * The calling thread's half of the local layer: deserialized entries kept in a {@link MemoryState}
 * (bounded by count under the chosen policy, optional byte bound), filled only by reads sent while tracking held, and emptied as
 * the worker thread's tracking session reports invalidations or loses tracking.
 *
 * Coherence rests on two rules. A read fills the layer only if no invalidation of its key (nor a
 * flush) was seen between sending the read and storing its answer: the answer may predate the change.
 * And invalidations are applied before every local read, checked through a counter in shared memory,
 * so even a synchronous loop that never yields sees them.
 */
export class LocalLayer {
  readonly #options: ResolvedLocalOptions;
  readonly #spec: () => ConnectionSpec;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #onError: ((error: StateError) => void) | undefined;
  readonly #store: MemoryState;
  /** Bumped whenever everything is dropped: reads sent before cannot fill. */
  #generation = 0;
  /** Bumped on every single-key invalidation; `#recent` says when each key was last invalidated. */
  #sequence = 0;
  readonly #recent = new Map<string, number>();
  #readsInFlight = 0;
  /** The keys held per tag id (a tagged entry is dropped when its tag's record changes). */
  readonly #byTag = new Map<string, Set<string>>();
  /** The tag ids of each tagged key held. */
  readonly #tagsOf = new Map<string, readonly string[]>();
  /** Serialized sizes of the entries held, oldest fill first. */
  readonly #sizes = new Map<string, number>();
  #bytes = 0;
  #tracking = false;
  #flushes = 0;
  #invalidations = 0;
  #session: { readonly id: number; readonly host: WorkerHost; readonly port: MessagePort; readonly posted: Int32Array } | undefined;
  /** Bumped by the worker after each message it posts; before the first session, a counter nobody bumps. */
  #posted: Int32Array<ArrayBufferLike> = new Int32Array(1);
  /** The value of `#posted` when the port was last drained. */
  #seen = 0;
  #retryAt = 0;
  #closed = false;
  /** Callers of {@link LocalLayer.ready} waiting for tracking to come on. */
  readonly #waiters = new Set<() => void>();

  constructor(
    options: ResolvedLocalOptions,
    spec: () => ConnectionSpec,
    prefix: string,
    timeout: number,
    onError: ((error: StateError) => void) | undefined,
  ) {
    this.#options = options;
    this.#spec = spec;
    this.#prefix = prefix;
    this.#timeout = timeout;
    this.#onError = onError;
    this.#store = new MemoryState({
      maxEntries: options.maxEntries,
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      onEvict: (key) => {
        this.#forgetSize(key);
        this.#forgetTags(key);
      },
    });
  }

  /** Starts the tracking session (in the worker thread) unless it runs; reads fill once it holds. */
  start(): void {
    if (!this.#closed && this.#session === undefined) this.#startTracking();
  }

  /**
   * Starts tracking and resolves once it holds (reads from then on fill the layer).
   * @throws (rejects) StateTimeoutError when tracking is not established within `boundMs` (Redis down,
   *   no RESP3 / `CLIENT TRACKING`): reads then go to Redis, and tracking keeps trying; SyncWorkerError
   *   when the worker thread cannot start; StateClosedError after close()
   */
  ready(boundMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new StateClosedError("RedisState"));
    this.start();
    this.#applyPending();
    if (this.#tracking) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      // Not unref'd: a caller awaiting ready() must see it settle.
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(new StateTimeoutError("Redis tracking for the local layer (CLIENT TRACKING)", boundMs));
      }, boundMs);
      this.#waiters.add(done);
    });
  }

  /** The entry held for `key`, after applying the invalidations reported so far; no I/O. */
  get(key: string): CacheEntry | undefined {
    this.#applyPending();
    return this.#store.getSync(key);
  }

  /** Reads of one namespace by argument, for Mimic's fast path; each applies pending invalidations first. */
  reader(namespace: string): LocalReader {
    const partition = this.#store.partition(namespace);
    return {
      namespace,
      getLone: (arg) => {
        this.#applyPending();
        return partition.getLone(arg);
      },
      getPair: (first, second) => {
        this.#applyPending();
        return partition.getPair(first, second);
      },
      get: (argumentsKey) => {
        this.#applyPending();
        return partition.get(argumentsKey);
      },
    };
  }

  /**
   * Called before a read of `key` is sent to Redis: a ticket when its answer may fill the layer (the
   * key is holdable and tracking holds), else `undefined`. Every ticket must be ended with
   * {@link LocalLayer.fill} or {@link LocalLayer.abandon}.
   */
  begin(key: string): FillTicket | undefined {
    if (this.#closed || key.length > MAX_KEY_LENGTH || !isWellFormedText(key)) return undefined;
    if (this.#session === undefined) this.#startTracking();
    this.#applyPending();
    if (!this.#tracking) return undefined;
    this.#readsInFlight++;
    return { generation: this.#generation, sequence: this.#sequence, sentAt: Date.now() };
  }

  /**
   * Ends a read with its answer: keeps `entry` unless the key was invalidated (or everything dropped,
   * or any tag's record changed) since the read was sent, or its Redis TTL (`pttl` milliseconds from
   * the read; `-1` none, `-2` gone) has run out. `tags` are the entry's tag ids, checked fresh by the read.
   */
  fill(ticket: FillTicket, key: string, entry: CacheEntry, pttl: number, bytes: number, tags: readonly string[] = []): void {
    this.#applyPending();
    const invalidatedSince = ticket.generation !== this.#generation || (this.#recent.get(key) ?? 0) > ticket.sequence;
    this.#end();
    if (invalidatedSince || this.#closed || pttl === -2 || pttl === 0) return;
    const now = Date.now();
    const redisDeadline = pttl === -1 ? Infinity : ticket.sentAt + pttl;
    const deadline = Math.min(redisDeadline, now + this.#options.ttlMs);
    if (deadline <= now) return;
    if (bytes > this.#options.maxBytes) return;
    this.#store.setSync(key, entry.value, deadline === Infinity ? null : (deadline - now) / 1000);
    this.#account(key, bytes);
    this.#forgetTags(key);
    if (tags.length > 0) {
      this.#tagsOf.set(key, tags);
      for (const tag of tags) {
        let keys = this.#byTag.get(tag);
        if (keys === undefined) this.#byTag.set(tag, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  /**
   * Drops every entry held with tag id `tag` (its record changed); reads in flight cannot fill
   * afterwards, since they may have judged an entry fresh before the change.
   */
  dropTag(tag: string): void {
    this.#generation++;
    const keys = this.#byTag.get(tag);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      this.#invalidations++;
      this.drop(key);
    }
  }

  /** Ends a read that failed or found nothing. */
  abandon(_ticket: FillTicket): void {
    this.#end();
  }

  /** Drops `key` (this process writes or deletes it): reads in flight for it cannot fill afterwards. */
  drop(key: string): void {
    if (this.#readsInFlight > 0) this.#recent.set(key, ++this.#sequence);
    this.#store.deleteSync(key);
    this.#forgetSize(key);
    this.#forgetTags(key);
  }

  /** Drops every key that starts with `prefix` (a function's namespace); reads in flight cannot fill. */
  dropPrefix(prefix: string): void {
    this.#generation++;
    this.#store.deletePrefixSync(prefix);
    for (const key of this.#sizes.keys()) if (key.startsWith(prefix)) this.#forgetSize(key);
    for (const key of this.#tagsOf.keys()) if (key.startsWith(prefix)) this.#forgetTags(key);
  }

  /** Drops everything; reads in flight cannot fill. */
  flush(): void {
    this.#generation++;
    this.#store.clearSync();
    this.#sizes.clear();
    this.#bytes = 0;
    this.#byTag.clear();
    this.#tagsOf.clear();
  }

  /** The layer's counts (after applying the invalidations reported so far). */
  stats(): LocalLayerStats {
    this.#applyPending();
    return {
      tracking: this.#tracking,
      entries: this.#store.size,
      bytes: this.#bytes,
      flushes: this.#flushes,
      invalidations: this.#invalidations,
    };
  }

  /** Ends the tracking session and drops everything. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tracking = false;
    const session = this.#session;
    this.#session = undefined;
    this.flush();
    await this.#store.close();
    if (session === undefined) return;
    session.port.close();
    session.host.post({ op: "untrack", session: session.id });
    await session.host.release();
  }

  #startTracking(): void {
    if (Date.now() < this.#retryAt) return;
    let host: WorkerHost;
    try {
      host = WorkerHost.acquire();
    } catch (error) {
      this.#retryAt = Date.now() + RETRY_AFTER_MS;
      this.#report(error);
      return;
    }
    const id = nextSession++;
    const signals = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const { port1, port2 } = new MessageChannel();
    this.#session = { id, host, port: port1, posted: new Int32Array(signals) };
    this.#posted = this.#session.posted;
    this.#seen = 0;
    // Also applied when the event loop turns, so an idle process does not queue invalidations forever.
    port1.on("message", (event: TrackingEvent) => this.#apply(event));
    port1.unref();
    host.onDeath((error) => {
      if (this.#session?.host !== host) return;
      this.#session = undefined;
      this.#posted = new Int32Array(1);
      this.#seen = 0;
      this.#lost();
      this.#report(error);
    });
    host.post({ op: "track", session: id, spec: this.#spec(), prefix: this.#prefix, timeout: this.#timeout, port: port2, signals });
  }

  /** Applies what the worker has reported since the last look: one shared-memory read when nothing has. */
  #applyPending(): void {
    if (Atomics.load(this.#posted, 0) !== this.#seen) this.#drain();
  }

  #drain(): void {
    const session = this.#session;
    if (session === undefined) return;
    this.#seen = Atomics.load(session.posted, 0);
    for (let received = receiveMessageOnPort(session.port); received !== undefined; received = receiveMessageOnPort(session.port)) {
      this.#apply(received.message as TrackingEvent);
    }
  }

  #apply(event: TrackingEvent): void {
    switch (event.kind) {
      case "on":
        this.#tracking = true;
        for (const done of [...this.#waiters]) done();
        return;
      case "off":
        this.#lost();
        return;
      case "flush":
        this.#flushes++;
        this.flush();
        return;
      case "keys":
        for (const key of event.keys) {
          this.#invalidations++;
          this.drop(key);
        }
        return;
      case "tags":
        for (const tag of event.tags) this.dropTag(tag);
        return;
    }
  }

  #lost(): void {
    this.#tracking = false;
    this.#flushes++;
    this.flush();
  }

  #end(): void {
    // Once no read is in flight, no ticket can be compared with the recent invalidations any more.
    if (--this.#readsInFlight === 0) this.#recent.clear();
  }

  #account(key: string, bytes: number): void {
    this.#forgetSize(key);
    this.#sizes.set(key, bytes);
    this.#bytes += bytes;
    // Oldest fill first: the store's own LRU order is not visible from here.
    for (const [oldest, size] of this.#sizes) {
      if (this.#bytes <= this.#options.maxBytes) break;
      this.#sizes.delete(oldest);
      this.#bytes -= size;
      this.#store.deleteSync(oldest);
    }
  }

  #forgetTags(key: string): void {
    const tags = this.#tagsOf.get(key);
    if (tags === undefined) return;
    this.#tagsOf.delete(key);
    for (const tag of tags) {
      const keys = this.#byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.#byTag.delete(tag);
    }
  }

  #forgetSize(key: string): void {
    const size = this.#sizes.get(key);
    if (size === undefined) return;
    this.#sizes.delete(key);
    this.#bytes -= size;
  }

  #report(error: unknown): void {
    const reported =
      error instanceof SyncWorkerError
        ? error
        : new SyncWorkerError(`the local layer could not start Redis tracking: ${String(error)}`, { cause: error });
    try {
      this.#onError?.(reported);
    } catch {
      // a throwing onError must not break reads
    }
  }
}
