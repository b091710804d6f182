import { coarseNow } from "../coarse-clock.js";
import { encodePrimitive } from "../keys/encode.js";
import type { CacheEntry, SetOptions } from "./contract.js";
import type { LocalPartition } from "./local-access.js";
import { classify, HITS_MODULUS, mayIndexByValue, type MemoryEntry, type Shape } from "./memory-entry.js";
import type { MemoryState } from "./memory-state.js";

/**
 * The entries of one namespace (one memoized function, or one instance of a method) in a
 * {@link MemoryState}. A lone primitive argument indexes its entry by its own value, and two primitive
 * arguments by a nested map, so a hit is one `Map.get` on a number or an already-hashed string instead
 * of hashing a freshly built key. The state owns the entries' bound, expiry and tags; a partition
 * only indexes them.
 */
export class MemoryPartition implements LocalPartition {
  readonly lone = new Map<unknown, MemoryEntry>();
  readonly pairs = new Map<unknown, Map<unknown, MemoryEntry>>();
  readonly encoded = new Map<string, MemoryEntry>();
  pairCount = 0;
  /** Handed out by `partition()`: kept even when empty, until disposed. */
  pinned = false;
  /** The namespace's hash, for an eviction policy that counts keys (computed on first use). */
  hashSeed: number | undefined = undefined;

  constructor(
    protected readonly owner: MemoryState,
    readonly namespace: string,
  ) {}

  get size(): number {
    return this.lone.size + this.pairCount + this.encoded.size;
  }

  getLone(arg: unknown): CacheEntry | undefined {
    // The memory hit path: kept free of nested calls on purpose, and a hit is one store of a constant.
    const entry = this.lone.get(arg);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= coarseNow()) return this.owner.touch(entry);
    entry.hits = 1;
    return entry;
  }

  setLone(arg: unknown, value: unknown, ttl: number | null, options?: SetOptions): void {
    this.owner.write(this, "lone", arg, value, ttl, options?.tags);
  }

  getPair(first: unknown, second: unknown): CacheEntry | undefined {
    const entry = this.pairs.get(first)?.get(second);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= coarseNow()) return this.owner.touch(entry);
    entry.hits = 1;
    return entry;
  }

  setPair(first: unknown, second: unknown, value: unknown, ttl: number | null, options?: SetOptions): void {
    this.owner.write(this, "pair", [first, second], value, ttl, options?.tags);
  }

  get(argumentsKey: string): CacheEntry | undefined {
    if (!mayIndexByValue(argumentsKey)) {
      const entry = this.encoded.get(argumentsKey);
      return entry === undefined ? undefined : this.owner.touch(entry);
    }
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

  /** How `entry` is indexed here: asked of the maps, so it must still be in one (not yet unlinked). */
  shapeOf(entry: MemoryEntry): Shape {
    const index = entry.index;
    if (Array.isArray(index)) return "pair";
    return typeof index === "string" && this.encoded.get(index) === entry ? "encoded" : "lone";
  }

  insert(entry: MemoryEntry, shape: Shape): void {
    if (shape === "lone") this.lone.set(entry.index, entry);
    else if (shape === "encoded") this.encoded.set(entry.index as string, entry);
    else {
      const [first, second] = entry.index as [unknown, unknown];
      let inner = this.pairs.get(first);
      if (inner === undefined) this.pairs.set(first, (inner = new Map()));
      inner.set(second, entry);
      this.pairCount++;
    }
  }

  /** Removes `entry` from the map that holds it (only it: never another entry at the same index). */
  unlink(entry: MemoryEntry): void {
    const index = entry.index;
    if (Array.isArray(index)) {
      const [first, second] = index as [unknown, unknown];
      const inner = this.pairs.get(first);
      if (inner !== undefined && inner.get(second) === entry) {
        inner.delete(second);
        this.pairCount--;
        if (inner.size === 0) this.pairs.delete(first);
      }
    } else if (this.lone.get(index) === entry) this.lone.delete(index);
    else if (typeof index === "string" && this.encoded.get(index) === entry) this.encoded.delete(index);
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

  /** The full key of `entry`, which must still be indexed here (see {@link MemoryPartition.shapeOf}). */
  fullKey(entry: MemoryEntry): string {
    const shape = this.shapeOf(entry);
    if (shape === "encoded") return this.namespace + (entry.index as string);
    if (shape === "lone") return `${this.namespace}A1:${encodePrimitive(entry.index)!}`;
    const [first, second] = entry.index as [unknown, unknown];
    return `${this.namespace}A2:${encodePrimitive(first)!}${encodePrimitive(second)!}`;
  }

  dispose(): void {
    this.owner.dropPartition(this);
  }
}

/**
 * A partition whose hits count accesses on the entry (for a policy that estimates frequencies,
 * tinylfu) instead of setting a flag: the same hit path with a read-modify-write of `hits`, kept in a
 * class of its own so that the flag-setting path pays nothing for it.
 */
export class CountingPartition extends MemoryPartition {
  override getLone(arg: unknown): CacheEntry | undefined {
    const entry = this.lone.get(arg);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= coarseNow()) return this.owner.touch(entry);
    entry.hits = (entry.hits + 1) & (HITS_MODULUS - 1);
    return entry;
  }

  override getPair(first: unknown, second: unknown): CacheEntry | undefined {
    const entry = this.pairs.get(first)?.get(second);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= coarseNow()) return this.owner.touch(entry);
    entry.hits = (entry.hits + 1) & (HITS_MODULUS - 1);
    return entry;
  }
}
