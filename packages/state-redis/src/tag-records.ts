import type { StoredEntry } from "./entry-codec.js";
import { tagBytes, tagEpochKey, tagRecordKey } from "./keys.js";
import { checkRecords, setBytes, tagStamps, type Steps } from "./steps.js";

// Tags that eviction or a dropped connection cannot defeat. Each tag has a record (a plain string
// key, see tagRecordKey) holding the Redis server time, in microseconds, of its last invalidation.
// Each tagged entry carries its tags and its start: server time at (or before) the moment its
// value's execution began. A tagged entry is fresh only while every one of its tags' records exists
// and is stamped before its start: a record that is missing (never written, expired, evicted) makes
// its entries stale, never immortal (it is recreated stamped with the state's tag epoch, the time
// of its latest tag invalidation, which no lost stamp can exceed). Invalidating tags is one script stamping their records (all of
// a state's records share one cluster slot, so one server clock and one atomic step), safe to retry
// (a retry only stamps them later). Reads of tagged entries check the records (one more round
// trip, only for tagged entries; with the local layer, held copies are dropped when Redis reports
// a record changed).

/**
 * How long an invalidation's record (a tag's, a key's, a namespace's, the state's) is kept at least
 * (a tag's forever when an entry that never expires carries it): writes whose execution began
 * before the invalidation are refused that long. Six hours: longer than any plausible execution.
 */
export const RECORD_RETAIN_MS = 6 * 60 * 60 * 1000;

/** The unique tags of an entry, as bytes. */
export function tagsAsBytes(tags: readonly string[]): Buffer[] {
  return [...new Set(tags)].map(tagBytes);
}

/** Whether a tagged entry is fresh: each of its tags' records exists and is stamped before its start. */
export function* isFresh(prefix: string, stored: StoredEntry, label: string): Steps<boolean> {
  const stamps = yield* tagStamps(
    stored.tags.map((tag) => tagRecordKey(prefix, tag)),
    label,
  );
  return stamps.every((stamp) => stamp !== null && Number(stamp) < stored.start);
}

/**
 * Writes a tagged entry: reads (and creates missing) tag records, takes the entry's start as the
 * earlier of the server's time then and `startedAt` (server time, when the execution's start is
 * known), and stores the entry only if no record is stamped at or after that start.
 * @param build the entry's bytes for a start
 * @returns whether the entry was stored
 */
export function* writeTagged(
  prefix: string,
  redisKey: string | Uint8Array,
  label: string,
  tags: readonly Buffer[],
  px: number | null,
  build: (start: number) => Uint8Array,
  startedAt: number | undefined,
): Steps<boolean> {
  const { now, stamps } = yield* checkRecords(
    tags.map((tag) => tagRecordKey(prefix, tag)),
    [],
    tagEpochKey(prefix),
    px,
    label,
  );
  const start = Math.min(startedAt ?? Infinity, Number(now));
  if (stamps.some((stamp) => Number(stamp) >= start)) return false;
  yield* setBytes(redisKey, label, build(start), px);
  return true;
}
