import { expiredAt, Segment, type MemoryEntry } from "../memory-entry.js";
import { EntryList } from "./entry-list.js";
import type { EvictionPolicy } from "./policy.js";

/** How many recently used entries one eviction may pass over before it evicts regardless. */
const SECOND_CHANCES_PER_EVICTION = 8;

/**
 * An approximate LRU (CLOCK): entries in insertion order, a hit only bumps a counter, and eviction takes
 * the oldest entry, moving a flagged one to the back once instead (a second chance). A hit thus costs
 * one field write instead of a reordering, and after a few second chances the oldest entry goes
 * anyway, so a write stays O(1).
 */
export class ClockPolicy implements EvictionPolicy {
  private readonly entries = new EntryList();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.count;
  }

  add(entry: MemoryEntry): MemoryEntry | undefined {
    // The victim is chosen before the new entry joins, so that second chances never leave the new
    // entry oldest and evict it at once.
    const victim = this.entries.count >= this.maxEntries ? this.victim() : undefined;
    entry.segment = Segment.Window;
    this.entries.append(entry);
    return victim;
  }

  remove(entry: MemoryEntry): void {
    this.entries.unlink(entry);
  }

  clear(): void {
    this.entries.clear();
  }

  forEach(visit: (entry: MemoryEntry) => void): void {
    this.entries.forEach(visit);
  }

  private victim(): MemoryEntry | undefined {
    let chances = SECOND_CHANCES_PER_EVICTION;
    for (let entry = this.entries.oldest; entry !== undefined; entry = this.entries.oldest) {
      if (entry.hits !== 0 && chances-- > 0 && !expiredAt(entry, Date.now())) {
        entry.hits = 0;
        this.entries.unlink(entry);
        this.entries.append(entry);
        continue;
      }
      return entry;
    }
    return undefined;
  }
}
