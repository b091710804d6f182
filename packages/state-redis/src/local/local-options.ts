import { InvalidOptionError, type MemoryStatePolicy } from "@mimic/core";
import { describeValue, rejectUnknownOptions } from "@mimic/core/state-kit";

/**
 * Options of the local layer ({@link RedisStateOptions.local}): a per-process copy of recently read
 * entries, already deserialized, kept coherent with Redis by server-assisted client-side caching.
 */
export interface LocalLayerOptions {
  /**
   * The most entries held per process; past it `policy` chooses which entry goes.
   * @default 10_000
   */
  maxEntries?: number | undefined;
  /**
   * Which entries the layer keeps once `maxEntries` is reached: `"lru"` (the least recently used go
   * first) or `"tinylfu"` (W-TinyLFU: an entry displaces another only if it is read more often, so
   * hot entries survive scans). The same choice as `MemoryState`'s `policy`.
   * @default `MemoryState`'s default (`"tinylfu"`)
   */
  policy?: MemoryStatePolicy | undefined;
  /**
   * The most bytes of entries (as stored in Redis, serialized) held per process; past it the entries
   * filled longest ago go first. The deserialized objects usually take more heap than their bytes.
   * @default Infinity (bounded by `maxEntries` only)
   */
  maxBytes?: number | undefined;
  /**
   * The most seconds an entry is served from the local layer before it is read from Redis again,
   * whatever its Redis TTL (which is always respected). A cap on how long a missed invalidation could
   * last; coherence does not depend on it.
   * @default null (until the entry's Redis TTL, or its invalidation)
   */
  ttl?: number | null | undefined;
}

/** {@link LocalLayerOptions} checked, with defaults applied. */
export interface ResolvedLocalOptions {
  readonly maxEntries: number;
  /** `undefined`: `MemoryState`'s default. */
  readonly policy: MemoryStatePolicy | undefined;
  readonly maxBytes: number;
  /** Milliseconds, or `Infinity`. */
  readonly ttlMs: number;
}

/** The default {@link LocalLayerOptions.maxEntries}. */
export const DEFAULT_LOCAL_MAX_ENTRIES = 10_000;

const knownLocalOptions = ["maxEntries", "maxBytes", "ttl", "policy"] as const;

const POLICIES: readonly MemoryStatePolicy[] = ["lru", "tinylfu"];

function positiveCount(name: string, value: unknown, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const ok = typeof value === "number" && value > 0 && (value === Infinity || (integer ? Number.isInteger(value) : Number.isFinite(value)));
  if (!ok) {
    throw new InvalidOptionError(
      `RedisState: local.${name} must be a positive ${integer ? "integer" : "number"} or Infinity, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Checks `local` (`true`, `false`/absent, or an options object); `undefined` when the layer is off. */
export function resolveLocalOptions(local: unknown): ResolvedLocalOptions | undefined {
  if (local === undefined || local === false) return undefined;
  if (local === true) return { maxEntries: DEFAULT_LOCAL_MAX_ENTRIES, policy: undefined, maxBytes: Infinity, ttlMs: Infinity };
  if (typeof local !== "object" || local === null || Array.isArray(local)) {
    throw new InvalidOptionError(`RedisState: local must be true, false or { maxEntries, maxBytes, ttl }, got ${describeValue(local)}`);
  }
  rejectUnknownOptions("RedisState: local", local, knownLocalOptions);
  const given = local as LocalLayerOptions;
  const ttl = given.ttl;
  let ttlMs = Infinity;
  if (ttl !== undefined && ttl !== null) {
    if (typeof ttl !== "number" || !(ttl > 0) || !Number.isFinite(ttl)) {
      throw new InvalidOptionError(`RedisState: local.ttl must be a positive number of seconds or null, got ${describeValue(ttl)}`);
    }
    ttlMs = ttl * 1000;
  }
  if (given.policy !== undefined && !POLICIES.includes(given.policy)) {
    throw new InvalidOptionError(
      `RedisState: local.policy must be one of ${POLICIES.map((name) => `"${name}"`).join(", ")}; got ${describeValue(given.policy)}`,
    );
  }
  return {
    maxEntries: positiveCount("maxEntries", given.maxEntries, DEFAULT_LOCAL_MAX_ENTRIES, true),
    policy: given.policy,
    maxBytes: positiveCount("maxBytes", given.maxBytes, Infinity, true),
    ttlMs,
  };
}
