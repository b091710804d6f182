import type { CacheEntry } from "../state/contract.js";
import { freshness, NEVER_EXPIRES, openEnvelope } from "./stale.js";

/** How a function's entries age: stale windows (seconds, counted from expiry) and refresh ahead. */
export interface EnvelopePolicy {
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
  /** β of refresh ahead (XFetch), or `undefined` when off. */
  readonly refreshAhead: number | undefined;
}

/**
 * What a read means for a call:
 * - `hit`: return `value` (and, with `refreshEarly`, recompute it in the background: refresh ahead);
 * - `revalidate`: return the stale `value` now and refresh in the background;
 * (`expiresAt`, for enveloped entries: the expiry the refresh replaces, so that a process that takes
 * the refresh lock after another one refreshed can tell, and skip)
 * - `fallback`: run the function, and return the stale `value` if it fails (or, with `timeout`, is
 *   slow) until `until`, the end of its `staleIfError` window (ms since the epoch);
 * - `miss`: run the function.
 */
export type Decision =
  | { readonly kind: "hit"; readonly value: unknown; readonly refreshEarly: boolean; readonly expiresAt?: number }
  | { readonly kind: "revalidate"; readonly value: unknown; readonly expiresAt: number }
  | { readonly kind: "fallback"; readonly value: unknown; readonly until: number }
  | { readonly kind: "miss" };

const MISS: Decision = { kind: "miss" };

/**
 * Decides what an entry read from the state means at `now` (ms since the epoch), given the
 * function's envelope policy and `draw`, a uniform random number in (0, 1] for refresh ahead.
 * Without a policy every entry is a hit; with one, entries are envelopes that carry their expiry,
 * and one that is not an envelope (or is past every window) is a miss. The sync and async paths,
 * the lock's re-read and `peek` all decide through this one function.
 */
export function decide(entry: CacheEntry | undefined, now: number, policy: EnvelopePolicy | undefined, draw = 1): Decision {
  if (entry === undefined) return MISS;
  if (policy === undefined) return { kind: "hit", value: entry.value, refreshEarly: false };
  const found = openEnvelope(entry.value);
  if (found === undefined) return MISS;
  switch (freshness(found, policy.staleWhileRevalidate, policy.staleIfError, now)) {
    case "fresh": {
      // XFetch: recompute early with a probability that rises as expiry nears, scaled by how long
      // the computation takes (Δ) and β.
      const { refreshAhead: beta } = policy;
      const refreshEarly =
        beta !== undefined && found.fresh !== NEVER_EXPIRES && now - (found.delta ?? 0) * beta * Math.log(draw) >= found.fresh;
      return { kind: "hit", value: found.value, refreshEarly, expiresAt: found.fresh };
    }
    case "revalidate":
      return { kind: "revalidate", value: found.value, expiresAt: found.fresh };
    case "fallback":
      return { kind: "fallback", value: found.value, until: found.fresh + policy.staleIfError * 1000 };
    default:
      return MISS;
  }
}
