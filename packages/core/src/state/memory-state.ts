import { InvalidOptionError } from "../errors.js";
import { NAMESPACE_END } from "../keys/encode.js";
import { describeValue, rejectUnknownOptions } from "../option-kit.js";
import { observedNow } from "../coarse-clock.js";
import { expiresAt } from "../ttl.js";
import type { BatchEntry, BatchReadingState, BatchWritingState, CacheEntry, SetOptions, TaggingState } from "./contract.js";
import { ClockPolicy } from "./eviction/clock.js";
import type { EvictionPolicy } from "./eviction/policy.js";
import { TinyLfuPolicy } from "./eviction/tinylfu.js";
import type { LocalPartition } from "./local-access.js";
import { classify, expiredAt, HITS_MODULUS, Segment, type MemoryEntry, type Shape } from "./memory-entry.js";
import { CountingPartition, MemoryPartition } from "./memory-partition.js";

/**
 * Which entries a bounded {@link MemoryState} keeps when it is full:
 * - `"lru"`: the least recently used go first (an approximate LRU, CLOCK). Best when recent keys are
 *   the ones asked for again (a working set that moves), and the policy of almost every JS cache.
 * - `"tinylfu"`: W-TinyLFU (as Caffeine): a new entry enters a small window, and when the window
 *   pushes it out it stays only if it is used more often than the entry it would displace (a
 *   frequency sketch decides). It keeps a skewed workload's hot entries through scans of one-hit
 *   keys and keeps part of a loop larger than the cache, where LRU keeps nothing; its window adapts
 *   to recency-friendly workloads.
 */
export type MemoryStatePolicy = "lru" | "tinylfu";

const POLICIES: readonly MemoryStatePolicy[] = ["lru", "tinylfu"];

/** Options of {@link MemoryState}. */
export interface MemoryStateOptions {
  /**
   * The most entries kept, entries of every partition included; past it `policy` chooses which entry
   * goes. `Infinity` disables the bound.
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * How the entry to evict is chosen once `maxEntries` is reached (see {@link MemoryStatePolicy}).
   * Neither reorders anything on a hit: under lru a hit sets a flag on the entry, under tinylfu it
   * increments a counter there (a few percent more per hit); the policy reads them when it evicts.
   * The default because it keeps more of what is asked again on every measured workload but one (a
   * sliding working set, where it is within a point of LRU): see the core README.
   * @default "tinylfu"
   */
  policy?: MemoryStatePolicy;
  /**
   * Seconds between sweeps that delete expired entries nobody reads again. The sweep timer is
   * `unref`'d (it never keeps the process alive) and stops on `close()`; `0` disables it (expired
   * entries are then dropped only when read or evicted).
   * @default 60
   */
  sweepInterval?: number;
  /**
   * Called with the key of each entry the state drops by itself: evicted to respect `maxEntries`, or
   * found expired (on read or by a sweep). Not called for `delete`, `clear`, prefix or tag removals,
   * which the caller asked for. It runs synchronously inside the operation that dropped the entry and
   * must not throw (an exception is swallowed).
   * @default undefined
   */
  onEvict?: ((key: string) => void) | undefined;
}

const KNOWN_OPTIONS: readonly (keyof MemoryStateOptions)[] = ["maxEntries", "policy", "sweepInterval", "onEvict"];

function checkCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && (value === Infinity || (Number.isInteger(value) && value > 0))) return value;
  throw new InvalidOptionError(`MemoryState: ${name} must be a positive integer or Infinity, got ${String(value)}`);
}

/**
 * The default state: entries live in this process's memory, values are kept by reference (a hit
 * returns the very object the function returned, so mutating it changes the cached value).
 * Bounded by `maxEntries` (which entries stay is the `policy`'s choice); expired entries are dropped
 * on read and swept periodically. An entry is only ever removed by eviction, expiry, a delete, a
 * clear or an invalidation: a hit never returns another key's value, under either policy.
 */
export class MemoryState implements TaggingState, BatchReadingState, BatchWritingState {
  /** Entries never leave this process: each wrapper, and each instance of a method, has its own namespace. */
  readonly local = true;
  /** The bound on the number of entries. */
  readonly maxEntries: number;
  /** How the entry to evict is chosen once the bound is reached. */
  readonly policyName: MemoryStatePolicy;
  private readonly sweepIntervalMs: number;
  private readonly partitions = new Map<string, MemoryPartition>();
  /** Every entry, in the order that decides which one goes when the bound is reached. */
  private readonly policy: EvictionPolicy;
  /** Whether hits are counted on the entries (tinylfu), not just flagged (lru). */
  private readonly countsHits: boolean;
  /** Entries by tag. */
  private readonly tagged = new Map<string, Set<MemoryEntry>>();
  /** The tags of each tagged entry (kept here rather than on every entry: most have none). */
  private readonly tagsOf = new Map<MemoryEntry, readonly string[]>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly onEvict: ((key: string) => void) | undefined;

  constructor(options: MemoryStateOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidOptionError(`MemoryState: options must be an object, got ${describeValue(options)}`);
    }
    rejectUnknownOptions("MemoryState", options, KNOWN_OPTIONS);
    this.maxEntries = checkCount("maxEntries", options.maxEntries, 10_000);
    if (options.onEvict !== undefined && typeof options.onEvict !== "function") {
      throw new InvalidOptionError(`MemoryState: onEvict must be a function, got ${typeof options.onEvict}`);
    }
    this.onEvict = options.onEvict;
    const interval = options.sweepInterval ?? 60;
    if (typeof interval !== "number" || !(interval >= 0) || interval === Infinity) {
      throw new InvalidOptionError(`MemoryState: sweepInterval must be a finite number of seconds >= 0, got ${String(interval)}`);
    }
    this.sweepIntervalMs = interval * 1000;
    const policy = options.policy === undefined ? "tinylfu" : options.policy;
    if (!POLICIES.includes(policy)) {
      const choices = POLICIES.map((name) => `"${name}"`).join(", ");
      throw new InvalidOptionError(`MemoryState: policy must be one of ${choices}; got ${describeValue(policy)}`);
    }
    this.policyName = policy;
    // Without a bound nothing is evicted, and the LRU list is all a sweep needs.
    this.countsHits = policy === "tinylfu" && this.maxEntries !== Infinity;
    this.policy = this.countsHits ? new TinyLfuPolicy(this.maxEntries) : new ClockPolicy(this.maxEntries);
  }

  /** The number of entries held, expired ones not yet swept included. */
  get size(): number {
    return this.policy.size;
  }

  /**
   * The entries of one key namespace (everything up to and including the first `|` of a key),
   * addressed by argument. Mimic's wrappers use it for fast hits; entries are the same ones the
   * string-keyed methods see.
   */
  partition(namespace: string): LocalPartition {
    const partition = this.partitionOf(namespace, true);
    partition.pinned = true;
    return partition;
  }

  getSync(key: string): CacheEntry | undefined {
    const { partition, shape, index } = this.locate(key, false);
    const entry = partition?.find(shape, index);
    return entry === undefined ? undefined : this.touch(entry);
  }

  setSync(key: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    const { partition, shape, index } = this.locate(key, true);
    this.write(partition!, shape, index, value, ttl, options?.tags);
  }

  deleteSync(key: string): void {
    const { partition, shape, index } = this.locate(key, false);
    const entry = partition?.find(shape, index);
    if (entry !== undefined) this.remove(entry);
  }

  clearSync(): void {
    for (const partition of this.partitions.values()) {
      partition.empty();
      if (!partition.pinned) this.partitions.delete(partition.namespace);
    }
    this.policy.clear();
    this.tagged.clear();
    this.tagsOf.clear();
  }

  /** Removes every entry carrying any of `tags`. */
  invalidateTagsSync(tags: readonly string[]): void {
    for (const tag of tags) {
      const entries = this.tagged.get(tag);
      if (entries !== undefined) for (const entry of [...entries]) this.remove(entry);
    }
  }

  /** Like {@link MemoryState.invalidateTagsSync}. */
  invalidateTags(tags: readonly string[]): Promise<void> {
    this.invalidateTagsSync(tags);
    return Promise.resolve();
  }

  /** Deletes every entry whose key starts with `prefix` (e.g. a function's namespace). */
  deletePrefixSync(prefix: string): void {
    for (const partition of [...this.partitions.values()]) {
      if (partition.namespace.startsWith(prefix)) {
        for (const entry of partition.entries()) this.remove(entry);
      } else if (prefix.startsWith(partition.namespace)) {
        for (const entry of partition.entries()) {
          if (partition.fullKey(entry).startsWith(prefix)) this.remove(entry);
        }
      }
    }
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.getSync(key));
  }

  set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    this.setSync(key, value, ttl, options);
    return Promise.resolve();
  }

  /** Reads many entries (each as `get` would), in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.getSync(key)));
  }

  /** Stores many entries, each as `set` would (its own ttl and tags). */
  setMany(entries: readonly BatchEntry[]): Promise<void> {
    for (const { key, value, ttl, options } of entries) this.setSync(key, value, ttl, options);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.deleteSync(key);
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.clearSync();
    return Promise.resolve();
  }

  /** Like {@link MemoryState.deletePrefixSync}. */
  deletePrefix(prefix: string): Promise<void> {
    this.deletePrefixSync(prefix);
    return Promise.resolve();
  }

  /** Deletes every expired entry now; the sweep timer calls this. */
  sweep(now: number = Date.now()): void {
    this.policy.forEach((entry) => {
      if (expiredAt(entry, now)) this.evict(entry);
    });
    if (this.policy.size === 0) this.stopSweeping();
  }

  /** Stops the sweep timer and drops every entry. */
  close(): Promise<void> {
    this.stopSweeping();
    this.clearSync();
    return Promise.resolve();
  }

  /** @internal A hit: checks expiry and marks the entry recently used. */
  touch(entry: MemoryEntry): CacheEntry | undefined {
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.evict(entry);
      return undefined;
    }
    entry.hits = this.countsHits ? (entry.hits + 1) & (HITS_MODULUS - 1) : 1;
    return entry;
  }

  /** @internal Stores a value in a partition, replacing the previous entry and its expiry. */
  write(partition: MemoryPartition, shape: Shape, index: unknown, value: unknown, ttl: number | null, tags?: readonly string[]): void {
    const attached = this.partitions.get(partition.namespace);
    if (attached === undefined) this.partitions.set(partition.namespace, partition);
    else partition = attached; // a partition dropped while empty and recreated since: one per namespace
    const expiry = ttl === null ? undefined : expiresAt(ttl, observedNow());
    const existing = partition.find(shape, index);
    if (existing !== undefined) {
      existing.value = value;
      existing.expiresAt = expiry;
      existing.hits = this.countsHits ? (existing.hits + 1) & (HITS_MODULUS - 1) : 1;
      this.untag(existing);
      this.tag(existing, tags);
      if (expiry !== undefined && expiry !== Infinity) this.startSweeping();
      return;
    }
    const entry: MemoryEntry = {
      value,
      expiresAt: expiry,
      hits: 0,
      hash: 0,
      segment: Segment.None,
      partition,
      index,
      older: undefined,
      newer: undefined,
    };
    this.tag(entry, tags);
    partition.insert(entry, shape);
    const victim = this.policy.add(entry);
    if (victim !== undefined) this.evict(victim);
    if (expiry !== undefined && expiry !== Infinity) this.startSweeping();
  }

  /** @internal Drops a partition and its entries (a method's instance was garbage-collected). */
  dropPartition(partition: MemoryPartition): void {
    for (const entry of partition.entries()) this.remove(entry);
    partition.pinned = false;
    if (this.partitions.get(partition.namespace) === partition) this.partitions.delete(partition.namespace);
  }

  private partitionOf(namespace: string, create: true): MemoryPartition;
  private partitionOf(namespace: string, create: boolean): MemoryPartition | undefined;
  private partitionOf(namespace: string, create: boolean): MemoryPartition | undefined {
    let partition = this.partitions.get(namespace);
    if (partition === undefined && create) {
      partition = this.countsHits ? new CountingPartition(this, namespace) : new MemoryPartition(this, namespace);
      this.partitions.set(namespace, partition);
    }
    return partition;
  }

  /** Splits a key into its partition (namespace up to the first `|`) and its index there. */
  private locate(key: string, create: boolean): { partition: MemoryPartition | undefined; shape: Shape; index: unknown } {
    const end = key.indexOf(NAMESPACE_END) + 1;
    const namespace = key.slice(0, end);
    const argumentsPart = key.slice(end);
    return { partition: this.partitionOf(namespace, create), ...classify(argumentsPart) };
  }

  private tag(entry: MemoryEntry, tags: readonly string[] | undefined): void {
    if (tags === undefined || tags.length === 0) return;
    this.tagsOf.set(entry, tags);
    for (const tag of tags) {
      let entries = this.tagged.get(tag);
      if (entries === undefined) this.tagged.set(tag, (entries = new Set()));
      entries.add(entry);
    }
  }

  private untag(entry: MemoryEntry): void {
    if (this.tagsOf.size === 0) return;
    const tags = this.tagsOf.get(entry);
    if (tags === undefined) return;
    for (const tag of tags) {
      const entries = this.tagged.get(tag);
      entries?.delete(entry);
      if (entries?.size === 0) this.tagged.delete(tag);
    }
    this.tagsOf.delete(entry);
  }

  private remove(entry: MemoryEntry): void {
    const { partition } = entry;
    this.untag(entry);
    partition.unlink(entry);
    this.policy.remove(entry);
    if (!partition.pinned && partition.size === 0) this.partitions.delete(partition.namespace);
  }

  /** Removes an entry the state drops by itself (capacity, expiry), telling `onEvict`. */
  private evict(entry: MemoryEntry): void {
    // The key is spelled while the partition still indexes the entry (it tells the entry's shape).
    const key = this.onEvict === undefined ? undefined : entry.partition.fullKey(entry);
    this.remove(entry);
    if (key === undefined) return;
    try {
      this.onEvict!(key);
    } catch {
      // documented: an eviction listener must not break the operation that evicted
    }
  }

  private startSweeping(): void {
    if (this.sweepTimer !== undefined || this.sweepIntervalMs === 0) return;
    this.sweepTimer = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  private stopSweeping(): void {
    if (this.sweepTimer === undefined) return;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
