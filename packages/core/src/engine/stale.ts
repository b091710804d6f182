/**
 * Entries of functions with stale windows or refresh ahead carry their freshness:
 * `{ mimic: 1, value, fresh, delta }`, `fresh` being the expiry time in ms since the epoch and
 * `delta` the milliseconds the execution took. The state keeps them for the ttl plus the longest
 * window; Mimic decides between fresh, stale and gone. Such functions use their own key namespace
 * (kind `S`/`A`), so envelopes and plain values never meet.
 */
interface Envelope {
  readonly mimic: 1;
  readonly value: unknown;
  readonly fresh: number;
  readonly delta?: number;
}

/** `fresh` of an entry that never expires: the last time a `Date` can hold (JSON-safe, unlike Infinity). */
export const NEVER_EXPIRES = 8.64e15;

/** Wraps a value with its expiry time (`ttl` in seconds, `null` for never) and its compute time. */
export function envelope(value: unknown, ttl: number | null, delta: number, now: number = Date.now()): Envelope {
  return { mimic: 1, value, fresh: ttl === null ? NEVER_EXPIRES : now + ttl * 1000, delta };
}

/** The envelope in a stored value, or `undefined` when the value is not one (then it is treated as a miss). */
export function openEnvelope(stored: unknown): Envelope | undefined {
  if (typeof stored !== "object" || stored === null) return undefined;
  const candidate = stored as Partial<Envelope>;
  return candidate.mimic === 1 && typeof candidate.fresh === "number" && "value" in candidate ? (candidate as Envelope) : undefined;
}

/** What a read found, given the windows (seconds). */
type Freshness = "fresh" | "revalidate" | "fallback" | "gone";

/**
 * Classifies an envelope at `now`: `fresh` before expiry; within the stale-while-revalidate window,
 * `revalidate`; within the stale-if-error window, `fallback`; after both, `gone`.
 */
export function freshness(entry: Envelope, staleWhileRevalidate: number, staleIfError: number, now: number = Date.now()): Freshness {
  if (now < entry.fresh) return "fresh";
  const staleFor = now - entry.fresh;
  if (staleFor < staleWhileRevalidate * 1000) return "revalidate";
  if (staleFor < staleIfError * 1000) return "fallback";
  return "gone";
}
