import { InvalidOptionError } from "./errors.js";
import type { CacheEntry, IState } from "./state.js";
import { expiresAt } from "./ttl.js";

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
}

interface MemoryEntry extends CacheEntry {
  /** Expiry as `Date.now()` milliseconds; `Infinity` for never. */
  expiresAt: number;
  /** Set on every hit; eviction gives such an entry a second chance. */
  recent: boolean;
}

/** How many recently used entries one eviction may pass over before it evicts regardless. */
const SECOND_CHANCES_PER_EVICTION = 8;

function checkCount(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === "number" && (value === Infinity || (Number.isInteger(value) && (allowZero ? value >= 0 : value > 0)));
  if (!ok) {
    throw new InvalidOptionError(
      `MemoryState: ${name} must be ${allowZero ? "a non-negative" : "a positive"} integer or Infinity, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The default state: entries live in this process's memory, values are kept by reference (a hit
 * returns the very object the function returned, so mutating it changes the cached value).
 * Bounded by `maxEntries`; expired entries are dropped on read and swept periodically.
 */
export class MemoryState implements IState {
  /** Entries never leave this process: each wrapper, and each instance of a method, has its own namespace. */
  readonly local = true;
  /** The bound on the number of entries. */
  readonly maxEntries: number;
  private readonly sweepIntervalMs: number;
  private readonly entries = new Map<string, MemoryEntry>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStateOptions = {}) {
    this.maxEntries = checkCount("maxEntries", options.maxEntries, 10_000, false);
    const interval = options.sweepInterval ?? 60;
    if (typeof interval !== "number" || !(interval >= 0) || interval === Infinity) {
      throw new InvalidOptionError(`MemoryState: sweepInterval must be a finite number of seconds >= 0, got ${String(interval)}`);
    }
    this.sweepIntervalMs = interval * 1000;
  }

  /** The number of entries held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  getSync(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== Infinity && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    entry.recent = true;
    return entry;
  }

  setSync(key: string, value: unknown, ttl: number | null): void {
    const expiry = expiresAt(ttl);
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      existing.value = value;
      existing.expiresAt = expiry;
      existing.recent = true;
      return;
    }
    this.entries.set(key, { value, expiresAt: expiry, recent: false });
    if (this.entries.size > this.maxEntries) this.evictOne();
    if (expiry !== Infinity) this.startSweeping();
  }

  deleteSync(key: string): void {
    this.entries.delete(key);
  }

  clearSync(): void {
    this.entries.clear();
  }

  /** Deletes every entry whose key starts with `prefix` (a function's namespace). */
  deletePrefixSync(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.getSync(key));
  }

  set(key: string, value: unknown, ttl: number | null): Promise<void> {
    this.setSync(key, value, ttl);
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
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    if (this.entries.size === 0) this.stopSweeping();
  }

  /** Stops the sweep timer and drops every entry. */
  close(): Promise<void> {
    this.stopSweeping();
    this.entries.clear();
    return Promise.resolve();
  }

  private evictOne(): void {
    // Map iterates oldest first. A recently used entry is moved to the back once (CLOCK);
    // after a few such second chances the oldest entry goes anyway, so a write stays O(1).
    let chances = SECOND_CHANCES_PER_EVICTION;
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.recent && chances-- > 0 && entry.expiresAt > Date.now()) {
        entry.recent = false;
        this.entries.set(key, entry);
        continue;
      }
      return;
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
