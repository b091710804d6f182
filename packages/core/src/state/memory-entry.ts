import { decodePrimitiveArguments } from "../keys/encode.js";
import type { CacheEntry } from "./contract.js";
import type { MemoryPartition } from "./memory-partition.js";

/** A counting policy's `hits` wrap at this modulus (2^30), so it stays a small integer for V8. */
export const HITS_MODULUS = 0x40000000;

/** The list of an eviction policy that holds an entry: none (being moved or evicted), or one of three. */
export const Segment = {
  None: 0,
  /** The only list of the LRU policy; the admission window of W-TinyLFU. */
  Window: 1,
  Probation: 2,
  Protected: 3,
} as const;
/** One of {@link Segment}'s values. */
export type Segment = (typeof Segment)[keyof typeof Segment];

/** A lone primitive argument, two primitive arguments, or any other argument list (by its encoding). */
export type Shape = "lone" | "pair" | "encoded";

/**
 * One entry of a {@link MemoryState}: the value handed out on a hit, and the state's bookkeeping. It
 * holds only what every entry needs (an entry costs 8 bytes a field on Node's 64-bit heap): its tags
 * live in a table of the state, and how its partition indexes it is told by the partition's maps.
 */
export interface MemoryEntry extends CacheEntry {
  /**
   * Expiry as `Date.now()` milliseconds; `undefined` for never. Not `Infinity`: V8 keeps a field that
   * only ever holds such numbers as a double field, which gives every entry a number box of its own
   * (16 bytes); with `undefined` among its values the field holds references, and an entry without a
   * ttl carries no number at all.
   */
  expiresAt: number | undefined;
  /**
   * Accesses (hits and overwrites) since the eviction policy last looked at the entry, which resets
   * it to 0: the only field a hit writes, so a hit needs no list reordering and no hashing. Under a
   * policy that counts frequencies (tinylfu) it is a count, modulo {@link HITS_MODULUS}; under lru a
   * flag (1), which a hit sets with one store.
   */
  hits: number;
  /** The hash the frequency sketch counts the entry's key by (0 when the policy keeps no sketch). */
  hash: number;
  /** Which list of the eviction policy holds the entry ({@link Segment}). */
  segment: Segment;
  readonly partition: MemoryPartition;
  /**
   * Its index there: the lone argument itself (a primitive), the pair `[a, b]` (the only array), or
   * the argument part of the key (a string, which the partition's maps tell apart from a lone string).
   */
  readonly index: unknown;
  /** Neighbours in the eviction policy's order (oldest first). */
  older: MemoryEntry | undefined;
  newer: MemoryEntry | undefined;
}

/** Whether `entry` has expired at `now` (ms since the epoch); never, without a ttl. */
export function expiredAt(entry: MemoryEntry, now: number): boolean {
  const expiry = entry.expiresAt;
  return expiry !== undefined && expiry <= now;
}

/**
 * Where an argument part is indexed: one or two keyable primitives by their values (so a hit needs
 * no key string), anything else by the encoding itself.
 */
export function classify(argumentsPart: string): { shape: Shape; index: unknown } {
  if (!mayIndexByValue(argumentsPart)) return { shape: "encoded", index: argumentsPart };
  if (argumentsPart.startsWith("A1:")) {
    const lone = decodePrimitiveArguments(argumentsPart, 1);
    if (lone !== undefined) return { shape: "lone", index: lone[0] };
  } else if (argumentsPart.startsWith("A2:")) {
    const pair = decodePrimitiveArguments(argumentsPart, 2);
    if (pair !== undefined) return { shape: "pair", index: pair };
  }
  return { shape: "encoded", index: argumentsPart };
}

/**
 * Whether an argument part may be one or two primitives (`classify` then decodes it to be sure):
 * `A1:` or `A2:` followed by a primitive's tag. The others (objects, arrays, more arguments, a key
 * option's value) are indexed by the part itself, and a lookup of one needs no decoding.
 */
export function mayIndexByValue(argumentsPart: string): boolean {
  if (argumentsPart.charCodeAt(0) !== 0x41 /* A */ || argumentsPart.charCodeAt(2) !== 0x3a /* : */) return false;
  const count = argumentsPart.charCodeAt(1);
  if (count !== 0x31 /* 1 */ && count !== 0x32 /* 2 */) return false;
  switch (argumentsPart.charCodeAt(3)) {
    case 0x73: // s
    case 0x64: // d
    case 0x62: // b
    case 0x75: // u
    case 0x6e: // n
    case 0x54: // T
    case 0x46: // F
      return true;
    default:
      return false;
  }
}
