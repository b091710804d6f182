import { decodePrimitiveArguments } from "../keys/encode.js";
import type { CacheEntry } from "./contract.js";
import type { MemoryPartition } from "./memory-partition.js";

/** A lone primitive argument, two primitive arguments, or any other argument list (by its encoding). */
export type Shape = "lone" | "pair" | "encoded";

/** One entry of a {@link MemoryState}: the value handed out on a hit, and the state's bookkeeping. */
export interface MemoryEntry extends CacheEntry {
  /** Expiry as `Date.now()` milliseconds; `Infinity` for never. */
  expiresAt: number;
  /** Set on every hit; eviction gives such an entry a second chance. */
  recent: boolean;
  readonly partition: MemoryPartition;
  /** How the entry is indexed in its partition. */
  readonly shape: Shape;
  /** Its index there: the lone argument itself, the pair `[a, b]`, or the argument part of the key. */
  readonly index: unknown;
  /** Tags given when the entry was written. */
  tags: readonly string[] | undefined;
  /** Neighbours in the eviction policy's order (oldest first). */
  older: MemoryEntry | undefined;
  newer: MemoryEntry | undefined;
}

/**
 * Where an argument part is indexed: one or two keyable primitives by their values (so a hit needs
 * no key string), anything else by the encoding itself.
 */
export function classify(argumentsPart: string): { shape: Shape; index: unknown } {
  if (argumentsPart.startsWith("A1:")) {
    const lone = decodePrimitiveArguments(argumentsPart, 1);
    if (lone !== undefined) return { shape: "lone", index: lone[0] };
  } else if (argumentsPart.startsWith("A2:")) {
    const pair = decodePrimitiveArguments(argumentsPart, 2);
    if (pair !== undefined) return { shape: "pair", index: pair };
  }
  return { shape: "encoded", index: argumentsPart };
}
