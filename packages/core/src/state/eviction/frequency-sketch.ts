/** The largest count a counter holds: 4 bits. */
export const MAX_FREQUENCY = 15;

/** Counters per 32-bit word. */
const COUNTERS_PER_WORD = 8;

/** The most words a sketch allocates (64 MiB): past it, counters are shared by more keys. */
const MAX_WORDS = 1 << 24;

/** A 32-bit finalizer (murmur3's): every input bit affects every output bit. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * A count-min sketch of access frequencies with 4-bit counters: each key increments 4 counters
 * chosen by its hash and its frequency is the least of them, so a collision can only overstate it.
 * Counting stops at 15 (all that admission needs: whether a candidate is used more than a victim),
 * and {@link FrequencySketch.halve} ages every count so that old popularity fades.
 *
 * The table has about 16 counters per key it is sized for (8 bytes per key, as Caffeine's). It starts
 * small and is sized up (counts restart) as the cache fills, so that a large bound held by a cache
 * that stays small does not cost its full table.
 */
export class FrequencySketch {
  private table: Uint32Array | undefined;
  private counterMask = 0;
  /** The number of keys the current table is sized for. */
  private sizedFor = 0;

  /** @param capacity the number of distinct keys expected to matter (the cache's bound) */
  constructor(private readonly capacity: number) {}

  /** Sizes the table for a cache now holding `size` entries, when it was sized for fewer. */
  ensureCapacity(size: number): void {
    if (size <= this.sizedFor || this.sizedFor >= this.capacity) return;
    this.allocate(Math.min(this.capacity, Math.max(256, size * 4)));
  }

  /** Adds `count` accesses to the key of hash `hash` (its counters stop at {@link MAX_FREQUENCY}). */
  add(hash: number, count: number): void {
    const table = this.table ?? this.allocate(Math.min(this.capacity, 256));
    const step = mix(hash ^ 0x9e3779b9) | 1;
    for (let i = 0, index = hash; i < 4; i++, index = (index + step) | 0) {
      const counter = index & this.counterMask;
      const word = counter >>> 3;
      const shift = (counter & 7) << 2;
      const current = (table[word]! >>> shift) & MAX_FREQUENCY;
      if (current === MAX_FREQUENCY) continue;
      const next = Math.min(MAX_FREQUENCY, current + count);
      table[word] = (table[word]! & ~(MAX_FREQUENCY << shift)) | (next << shift);
    }
  }

  /** The estimated accesses of the key of hash `hash` (0 to {@link MAX_FREQUENCY}). */
  frequency(hash: number): number {
    const table = this.table;
    if (table === undefined) return 0;
    const step = mix(hash ^ 0x9e3779b9) | 1;
    let least = MAX_FREQUENCY;
    for (let i = 0, index = hash; i < 4; i++, index = (index + step) | 0) {
      const counter = index & this.counterMask;
      const count = (table[counter >>> 3]! >>> ((counter & 7) << 2)) & MAX_FREQUENCY;
      if (count < least) least = count;
    }
    return least;
  }

  /** Halves every count (the aging step, once per sample period). */
  halve(): void {
    const table = this.table;
    if (table === undefined) return;
    for (let i = 0; i < table.length; i++) table[i] = (table[i]! >>> 1) & 0x77777777;
  }

  private allocate(keys: number): Uint32Array {
    this.sizedFor = keys;
    const words = Math.min(MAX_WORDS, powerOfTwoAtLeast(Math.max(8, Math.ceil((keys * 16) / COUNTERS_PER_WORD))));
    this.table = new Uint32Array(words);
    this.counterMask = words * COUNTERS_PER_WORD - 1;
    return this.table;
  }
}
