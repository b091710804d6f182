import { InvalidOptionError } from "../errors.js";
import { decodePrimitiveArguments, encodePrimitive, NAMESPACE_END } from "../keys/encode.js";
import type { CacheEntry, IState, SetOptions, TaggingState } from "./contract.js";
import type { LocalPartition } from "./local-access.js";
import { expiresAt } from "../ttl.js";

/** Options of {@link MemoryState}. */
export interface MemoryStateOptions {
  /**
   * The most entries kept; past it the least recently used are evicted (an approximate LRU:
   * CLOCK, so that a hit costs one flag write instead of a reordering). `Infinity` disables the bound.
   * @default 10_000
   */
  maxEntries?: number;
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

interface MemoryEntry extends CacheEntry {
  /** Expiry as `Date.now()` milliseconds; `Infinity` for never. */
  expiresAt: number;
  /** Set on every hit; eviction gives such an entry a second chance. */
  recent: boolean;
  readonly partition: Partition;
  /** How the entry is indexed in its partition. */
  readonly shape: Shape;
  /** Its index there: the lone argument itself, the pair `[a, b]`, or the argument part of the key. */
  readonly index: unknown;
  /** Tags given when the entry was written. */
  tags: readonly string[] | undefined;
  /** Neighbours in the state's age order (oldest first). */
  older: MemoryEntry | undefined;
  newer: MemoryEntry | undefined;
}

/** A lone primitive argument, two primitive arguments, or any other argument list (by its encoding). */
type Shape = "lone" | "pair" | "encoded";

/**
 * Where an argument part is indexed: one or two keyable primitives by their values (so a hit needs
 * no key string), anything else by the encoding itself.
 */
function classify(argumentsPart: string): { shape: Shape; index: unknown } {
  if (argumentsPart.startsWith("A1:")) {
    const lone = decodePrimitiveArguments(argumentsPart, 1);
    if (lone !== undefined) return { shape: "lone", index: lone[0] };
  } else if (argumentsPart.startsWith("A2:")) {
    const pair = decodePrimitiveArguments(argumentsPart, 2);
    if (pair !== undefined) return { shape: "pair", index: pair };
  }
  return { shape: "encoded", index: argumentsPart };
}

/** How many recently used entries one eviction may pass over before it evicts regardless. */
const SECOND_CHANCES_PER_EVICTION = 8;

/**
 * The entries of one namespace (one memoized function, or one instance of a method). A lone
 * primitive argument indexes its entry by its own value, so a hit is one `Map.get` on a number or
 * an already-hashed string instead of hashing a freshly built key.
 */
class Partition implements LocalPartition {
  readonly lone = new Map<unknown, MemoryEntry>();
  readonly pairs = new Map<unknown, Map<unknown, MemoryEntry>>();
  readonly encoded = new Map<string, MemoryEntry>();
  pairCount = 0;
  /** Handed out by `partition()`: kept even when empty, until disposed. */
  pinned = false;

  constructor(
    private readonly owner: MemoryState,
    readonly namespace: string,
  ) {}

  get size(): number {
    return this.lone.size + this.pairCount + this.encoded.size;
  }

  getLone(arg: unknown): CacheEntry | undefined {
    // The memory hit path: kept free of nested calls on purpose.
    const entry = this.lone.get(arg);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== Infinity && entry.expiresAt <= Date.now()) return this.owner.touch(entry);
    entry.recent = true;
    return entry;
  }

  setLone(arg: unknown, value: unknown, ttl: number | null, options?: SetOptions): void {
    this.owner.write(this, "lone", arg, value, ttl, options?.tags);
  }

  getPair(first: unknown, second: unknown): CacheEntry | undefined {
    const entry = this.pairs.get(first)?.get(second);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== Infinity && entry.expiresAt <= Date.now()) return this.owner.touch(entry);
    entry.recent = true;
    return entry;
  }

  setPair(first: unknown, second: unknown, value: unknown, ttl: number | null, options?: SetOptions): void {
    this.owner.write(this, "pair", [first, second], value, ttl, options?.tags);
  }

  get(argumentsKey: string): CacheEntry | undefined {
    const { shape, index } = classify(argumentsKey);
    const entry = this.find(shape, index);
    return entry === undefined ? undefined : this.owner.touch(entry);
  }

  set(argumentsKey: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    const { shape, index } = classify(argumentsKey);
    this.owner.write(this, shape, index, value, ttl, options?.tags);
  }

  /** The entry at an index of a given shape. */
  find(shape: Shape, index: unknown): MemoryEntry | undefined {
    if (shape === "lone") return this.lone.get(index);
    if (shape === "encoded") return this.encoded.get(index as string);
    const [first, second] = index as [unknown, unknown];
    return this.pairs.get(first)?.get(second);
  }

  insert(entry: MemoryEntry): void {
    if (entry.shape === "lone") this.lone.set(entry.index, entry);
    else if (entry.shape === "encoded") this.encoded.set(entry.index as string, entry);
    else {
      const [first, second] = entry.index as [unknown, unknown];
      let inner = this.pairs.get(first);
      if (inner === undefined) this.pairs.set(first, (inner = new Map()));
      inner.set(second, entry);
      this.pairCount++;
    }
  }

  unlink(entry: MemoryEntry): void {
    if (entry.shape === "lone") this.lone.delete(entry.index);
    else if (entry.shape === "encoded") this.encoded.delete(entry.index as string);
    else {
      const [first, second] = entry.index as [unknown, unknown];
      const inner = this.pairs.get(first);
      if (inner?.delete(second) === true) {
        this.pairCount--;
        if (inner.size === 0) this.pairs.delete(first);
      }
    }
  }

  /** A snapshot of every entry (safe to remove while iterating it). */
  entries(): MemoryEntry[] {
    const all = [...this.lone.values(), ...this.encoded.values()];
    for (const inner of this.pairs.values()) all.push(...inner.values());
    return all;
  }

  empty(): void {
    this.lone.clear();
    this.pairs.clear();
    this.encoded.clear();
    this.pairCount = 0;
  }

  fullKey(entry: MemoryEntry): string {
    if (entry.shape === "encoded") return this.namespace + (entry.index as string);
    if (entry.shape === "lone") return `${this.namespace}A1:${encodePrimitive(entry.index)!}`;
    const [first, second] = entry.index as [unknown, unknown];
    return `${this.namespace}A2:${encodePrimitive(first)!}${encodePrimitive(second)!}`;
  }

  dispose(): void {
    this.owner.dropPartition(this);
  }
}

function checkCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "number" && (value === Infinity || (Number.isInteger(value) && value > 0))) return value;
  throw new InvalidOptionError(`MemoryState: ${name} must be a positive integer or Infinity, got ${String(value)}`);
}

/**
 * The default state: entries live in this process's memory, values are kept by reference (a hit
 * returns the very object the function returned, so mutating it changes the cached value).
 * Bounded by `maxEntries`; expired entries are dropped on read and swept periodically.
 */
export class MemoryState implements TaggingState {
  /** Entries never leave this process: each wrapper, and each instance of a method, has its own namespace. */
  readonly local = true;
  /** The bound on the number of entries. */
  readonly maxEntries: number;
  private readonly sweepIntervalMs: number;
  private readonly partitions = new Map<string, Partition>();
  /** Every entry, oldest first: the CLOCK's hand walks it from the front. */
  // Every entry, oldest first, as a linked list: the CLOCK's hand walks it from the front. (A Set
  // would do, but a fresh iterator over a Set must step over every slot deleted at its front, which
  // made each eviction cost microseconds once the bound was reached.)
  private oldest: MemoryEntry | undefined;
  private newest: MemoryEntry | undefined;
  private count = 0;
  /** Entries by tag. */
  private readonly tagged = new Map<string, Set<MemoryEntry>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly onEvict: ((key: string) => void) | undefined;

  constructor(options: MemoryStateOptions = {}) {
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
  }

  /** The number of entries held, expired ones not yet swept included. */
  get size(): number {
    return this.count;
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
    this.oldest = this.newest = undefined;
    this.count = 0;
    this.tagged.clear();
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
    for (let entry = this.oldest; entry !== undefined; ) {
      const next = entry.newer;
      if (entry.expiresAt <= now) this.evict(entry);
      entry = next;
    }
    if (this.count === 0) this.stopSweeping();
  }

  /** Stops the sweep timer and drops every entry. */
  close(): Promise<void> {
    this.stopSweeping();
    this.clearSync();
    return Promise.resolve();
  }

  /** @internal A hit: checks expiry and marks the entry recently used. */
  touch(entry: MemoryEntry): CacheEntry | undefined {
    if (entry.expiresAt !== Infinity && entry.expiresAt <= Date.now()) {
      this.evict(entry);
      return undefined;
    }
    entry.recent = true;
    return entry;
  }

  /** @internal Stores a value in a partition, replacing the previous entry and its expiry. */
  write(partition: Partition, shape: Shape, index: unknown, value: unknown, ttl: number | null, tags?: readonly string[]): void {
    const attached = this.partitions.get(partition.namespace);
    if (attached === undefined) this.partitions.set(partition.namespace, partition);
    else partition = attached; // a partition dropped while empty and recreated since: one per namespace
    const expiry = expiresAt(ttl);
    const existing = partition.find(shape, index);
    if (existing !== undefined) {
      existing.value = value;
      existing.expiresAt = expiry;
      existing.recent = true;
      this.untag(existing);
      this.tag(existing, tags);
      return;
    }
    const entry: MemoryEntry = {
      value,
      expiresAt: expiry,
      recent: false,
      partition,
      shape,
      index,
      tags: undefined,
      older: undefined,
      newer: undefined,
    };
    this.tag(entry, tags);
    partition.insert(entry);
    this.append(entry);
    if (this.count > this.maxEntries) this.evictOne();
    if (expiry !== Infinity) this.startSweeping();
  }

  /** @internal Drops a partition and its entries (a method's instance was garbage-collected). */
  dropPartition(partition: Partition): void {
    for (const entry of partition.entries()) this.remove(entry);
    partition.pinned = false;
    if (this.partitions.get(partition.namespace) === partition) this.partitions.delete(partition.namespace);
  }

  private partitionOf(namespace: string, create: true): Partition;
  private partitionOf(namespace: string, create: boolean): Partition | undefined;
  private partitionOf(namespace: string, create: boolean): Partition | undefined {
    let partition = this.partitions.get(namespace);
    if (partition === undefined && create) {
      partition = new Partition(this, namespace);
      this.partitions.set(namespace, partition);
    }
    return partition;
  }

  /** Splits a key into its partition (namespace up to the first `|`) and its index there. */
  private locate(key: string, create: boolean): { partition: Partition | undefined; shape: Shape; index: unknown } {
    const end = key.indexOf(NAMESPACE_END) + 1;
    const namespace = key.slice(0, end);
    const argumentsPart = key.slice(end);
    return { partition: this.partitionOf(namespace, create), ...classify(argumentsPart) };
  }

  private tag(entry: MemoryEntry, tags: readonly string[] | undefined): void {
    if (tags === undefined || tags.length === 0) return;
    entry.tags = tags;
    for (const tag of tags) {
      let entries = this.tagged.get(tag);
      if (entries === undefined) this.tagged.set(tag, (entries = new Set()));
      entries.add(entry);
    }
  }

  private untag(entry: MemoryEntry): void {
    if (entry.tags === undefined) return;
    for (const tag of entry.tags) {
      const entries = this.tagged.get(tag);
      entries?.delete(entry);
      if (entries?.size === 0) this.tagged.delete(tag);
    }
    entry.tags = undefined;
  }

  private remove(entry: MemoryEntry): void {
    const { partition } = entry;
    this.untag(entry);
    partition.unlink(entry);
    this.unlink(entry);
    if (!partition.pinned && partition.size === 0) this.partitions.delete(partition.namespace);
  }

  private evictOne(): void {
    // Oldest first. A recently used entry is moved to the back once (CLOCK); after a few such
    // second chances the oldest entry goes anyway, so a write stays O(1).
    let chances = SECOND_CHANCES_PER_EVICTION;
    for (let entry = this.oldest; entry !== undefined; entry = this.oldest) {
      if (entry.recent && chances-- > 0 && entry.expiresAt > Date.now()) {
        entry.recent = false;
        this.unlink(entry);
        this.append(entry);
        continue;
      }
      this.evict(entry);
      return;
    }
  }

  /** Removes an entry the state drops by itself (capacity, expiry), telling `onEvict`. */
  private evict(entry: MemoryEntry): void {
    this.remove(entry);
    if (this.onEvict === undefined) return;
    try {
      this.onEvict(entry.partition.fullKey(entry));
    } catch {
      // documented: an eviction listener must not break the operation that evicted
    }
  }

  private append(entry: MemoryEntry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.count++;
  }

  private unlink(entry: MemoryEntry): void {
    if (entry.older === undefined && this.oldest !== entry) return; // not in the list (removed already)
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = entry.newer = undefined;
    this.count--;
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
