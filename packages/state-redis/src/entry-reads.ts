import type { CacheEntry } from "@mimic/core";
import type { EntryCodec, StoredEntry } from "./entry-codec.js";
import { tagId, toRedisKey } from "./keys.js";
import type { LocalLayer } from "./local/local-layer.js";
import { deleteIfEqual, getBytesWithTtl, type Steps } from "./steps.js";
import { isFresh } from "./tag-records.js";

/** What reading an entry needs of its state: the prefix of its keys and the codec of its entries. */
export interface EntryReader {
  readonly prefix: string;
  readonly codec: EntryCodec;
}

/** Reads `key` from Redis: the entry, or `undefined` on a miss or a stale tagged entry. */
export function* readFromRedis(reader: EntryReader, key: string): Steps<CacheEntry | undefined> {
  const redisKey = toRedisKey(reader.prefix, key);
  // The step itself, not getBytes(): one generator less on the hot path.
  const bytes = (yield { op: "get", key: redisKey, label: key }) as Uint8Array | null;
  if (bytes === null) return undefined;
  return (yield* servable(reader, bytes, redisKey, key))?.entry;
}

/**
 * Reads `key` through the local layer: its copy when it holds one (looked at unless `lookLocally` is
 * false: the caller just did), else from Redis, filling the layer with what it may keep.
 */
export function* readThroughLayer(reader: EntryReader, local: LocalLayer, key: string, lookLocally: boolean): Steps<CacheEntry | undefined> {
  if (lookLocally) {
    const held = local.get(key);
    if (held !== undefined) return held;
  }
  const ticket = local.begin(key);
  if (ticket === undefined) return yield* readFromRedis(reader, key);
  let entry: CacheEntry | undefined;
  try {
    // A holdable key is well-formed and short: its Redis key is a string.
    const redisKey = toRedisKey(reader.prefix, key) as string;
    const [bytes, pttl] = yield* getBytesWithTtl(redisKey, key);
    if (bytes === null) return undefined;
    const stored = yield* servable(reader, bytes, redisKey, key);
    if (stored === undefined) return undefined;
    entry = stored.entry;
    local.fill(ticket, key, entry, pttl, bytes.length, stored.tags.map(tagId));
  } finally {
    if (entry === undefined) local.abandon(ticket);
  }
  return entry;
}

/**
 * The entry stored in `bytes` when it may be served: `undefined` for a tagged entry that is stale,
 * which is deleted unless someone rewrote it meanwhile.
 * @throws CorruptEntryError for bytes that are not an entry of this codec (see EntryCodec)
 */
function* servable(reader: EntryReader, bytes: Uint8Array, redisKey: string | Uint8Array, key: string): Steps<StoredEntry | undefined> {
  const stored = reader.codec.decodeStored(bytes, key);
  if (stored.tags.length === 0 || (yield* isFresh(reader.prefix, stored, key))) return stored;
  try {
    yield* deleteIfEqual(redisKey, bytes, key);
  } catch {
    // Only tidying: the entry stays stale whether or not it is gone.
  }
  return undefined;
}
