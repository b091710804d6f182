import type { CacheEntry } from "@mimic/core";
import { findMismatch } from "./compare.js";
import { preview } from "./format.js";

/** A broken promise of the `IState` contract, found by the suite. */
export class ConformanceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConformanceError";
  }
}

/** Fails unless `entry` is a miss. */
export function expectMiss(entry: CacheEntry | undefined, context: string): void {
  if (entry !== undefined) {
    throw new ConformanceError(`${context}: expected a miss (undefined), got a hit whose value is ${preview(entry.value)}`);
  }
}

/** Fails unless `entry` is a hit whose value equals `expected` as a structured clone would. */
export function expectHit(entry: CacheEntry | undefined, expected: unknown, context: string): void {
  if (entry === undefined) {
    throw new ConformanceError(`${context}: expected a hit with the value ${preview(expected)}, got a miss`);
  }
  const mismatch = findMismatch(expected, entry.value);
  if (mismatch !== undefined) {
    throw new ConformanceError(`${context}: the hit's value is not what was stored: ${mismatch}`);
  }
}
