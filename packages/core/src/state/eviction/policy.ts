import type { MemoryEntry } from "../memory-entry.js";

/**
 * Which entries a bounded {@link MemoryState} keeps. The state tells the policy of every entry it
 * adds and removes; the policy answers, when an entry is added past the bound, which entry must go.
 * A policy only orders entries: the state removes the victim (from its partition, its tags, and
 * through {@link EvictionPolicy.remove} from the policy), so every removal takes one path.
 */
export interface EvictionPolicy {
  /** The number of entries the policy holds. */
  readonly size: number;
  /**
   * Takes a new entry. Returns the entry to evict when the bound is passed (the new entry itself
   * never), else `undefined`.
   */
  add(entry: MemoryEntry): MemoryEntry | undefined;
  /** Forgets an entry (evicted, expired, deleted, invalidated); a no-op for an entry it does not hold. */
  remove(entry: MemoryEntry): void;
  /** Forgets every entry. */
  clear(): void;
  /** Calls `visit` on every entry held; `visit` may remove the entry it is given. */
  forEach(visit: (entry: MemoryEntry) => void): void;
}
