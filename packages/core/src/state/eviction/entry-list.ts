import type { MemoryEntry } from "../memory-entry.js";

/**
 * A doubly linked list of entries through their own `older`/`newer` fields, oldest first. (A `Set`
 * would keep the order too, but a fresh iterator over a `Set` steps over every slot deleted at its
 * front, which made each eviction cost microseconds once the bound was reached.)
 */
export class EntryList {
  oldest: MemoryEntry | undefined;
  newest: MemoryEntry | undefined;
  count = 0;

  /** Adds `entry` as the newest. It must not be in any list. */
  append(entry: MemoryEntry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
    this.count++;
  }

  /** Takes `entry` out of this list; nothing happens if it is not in it (removed already). */
  unlink(entry: MemoryEntry): void {
    if (entry.older === undefined && this.oldest !== entry) return;
    if (entry.older === undefined) this.oldest = entry.newer;
    else entry.older.newer = entry.newer;
    if (entry.newer === undefined) this.newest = entry.older;
    else entry.newer.older = entry.older;
    entry.older = entry.newer = undefined;
    this.count--;
  }

  /** Forgets every entry (their links are left as they are: the entries are dropped with the list). */
  clear(): void {
    this.oldest = this.newest = undefined;
    this.count = 0;
  }

  /** Calls `visit` on each entry, oldest first; `visit` may unlink the entry it is given. */
  forEach(visit: (entry: MemoryEntry) => void): void {
    for (let entry = this.oldest; entry !== undefined; ) {
      const next = entry.newer;
      visit(entry);
      entry = next;
    }
  }
}
