import type { CacheEntry } from "../state/contract.js";
import { freshness, openEnvelope } from "./stale.js";

/** The stale windows of a function, in seconds, counted from expiry. */
export interface StaleWindows {
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
}

/**
 * What a read means for a call:
 * - `hit`: return `value`;
 * - `revalidate`: return the stale `value` now and refresh in the background;
 * - `fallback`: run the function, and return the stale `value` if it fails;
 * - `miss`: run the function.
 */
export type Decision =
  | { readonly kind: "hit"; readonly value: unknown }
  | { readonly kind: "revalidate"; readonly value: unknown }
  | { readonly kind: "fallback"; readonly value: unknown }
  | { readonly kind: "miss" };

const MISS: Decision = { kind: "miss" };

/**
 * Decides what an entry read from the state means at `now` (ms since the epoch). Without stale
 * windows every entry is a hit; with them, entries are envelopes that carry their expiry, and one
 * that is not an envelope (or is past every window) is a miss. The sync and async paths, the lock's
 * re-read and `peek` all decide through this one function.
 */
export function decide(entry: CacheEntry | undefined, now: number, windows: StaleWindows | undefined): Decision {
  if (entry === undefined) return MISS;
  if (windows === undefined) return { kind: "hit", value: entry.value };
  const found = openEnvelope(entry.value);
  if (found === undefined) return MISS;
  const judged = freshness(found, windows.staleWhileRevalidate, windows.staleIfError, now);
  switch (judged) {
    case "fresh":
      return { kind: "hit", value: found.value };
    case "revalidate":
      return { kind: "revalidate", value: found.value };
    case "fallback":
      return { kind: "fallback", value: found.value };
    default:
      return MISS;
  }
}
