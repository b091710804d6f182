import type { CacheEntry, IState } from "@mimic/core";

interface Stored {
  value: unknown;
  expiresAt: number; // ms since the epoch; Infinity: never
}

/** The seed's `MyState`, in TypeScript: a Map in this process, with ttls. */
export class MyState implements IState {
  // Entries never leave this process: Mimic gives every wrapper and every instance its own keys.
  readonly local = true;
  readonly #entries = new Map<string, Stored>();

  // A miss is `undefined` (never `null`); a hit is `{ value }`, even when the value is undefined.
  getSync(key: string): CacheEntry | undefined {
    const stored = this.#entries.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return { value: stored.value };
  }

  // ttl is in seconds (fractions allowed), or null for "never expires"; 0 is expired at once.
  setSync(key: string, value: unknown, ttl: number | null): void {
    const expiresAt = ttl === null ? Infinity : Date.now() + ttl * 1000;
    this.#entries.set(key, { value, expiresAt });
  }

  deleteSync(key: string): void {
    this.#entries.delete(key);
  }

  clearSync(): void {
    this.#entries.clear();
  }

  // The async half is required; here it simply wraps the sync one.
  async get(key: string): Promise<CacheEntry | undefined> {
    return this.getSync(key);
  }

  async set(key: string, value: unknown, ttl: number | null): Promise<void> {
    this.setSync(key, value, ttl);
  }

  async delete(key: string): Promise<void> {
    this.deleteSync(key);
  }

  async clear(): Promise<void> {
    this.clearSync();
  }
}
