import type { MemoryEntry } from "../memory-entry.js";
import { mix } from "./frequency-sketch.js";

/** A 32-bit hash of a string, `seed` mixed in (FNV-1a over UTF-16 code units, then a final mix). */
export function hashString(text: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

/** A 32-bit hash of one primitive argument, its type mixed in so that `1` and `"1"` count apart. */
export function hashPrimitive(value: unknown, seed: number): number {
  switch (typeof value) {
    case "number":
      return (value | 0) === value
        ? mix(seed ^ Math.imul(value, 0x27d4eb2d) ^ 0x1b873593)
        : hashString(String(value), seed ^ 0x5bd1e995);
    case "string":
      return hashString(value, seed);
    case "bigint":
      return hashString(value.toString(), seed ^ 0x68e31da4);
    case "boolean":
      return mix(seed ^ (value ? 0x3c6ef372 : 0x14292967));
    default:
      return mix(seed ^ (value === null ? 0x7f4a7c15 : 0x2545f491));
  }
}

/**
 * The hash a frequency sketch counts an entry's key by: its namespace's hash (computed once per
 * partition) mixed with its arguments, so no key string is built.
 */
export function hashEntry(entry: MemoryEntry): number {
  const partition = entry.partition;
  const seed = (partition.hashSeed ??= hashString(partition.namespace, 0));
  const shape = partition.shapeOf(entry);
  if (shape === "lone") return hashPrimitive(entry.index, seed);
  if (shape === "encoded") return hashString(entry.index as string, seed);
  const [first, second] = entry.index as [unknown, unknown];
  return hashPrimitive(second, hashPrimitive(first, seed));
}
