import { fenceRecordKey, tagEpochKey, tagRecordKey, toRedisKey } from "./keys.js";
import type { ServerClock } from "./server-clock.js";
import { checkRecords, deleteIfEqual, fencedSet, setBytes, settleWrites, stampRecords, tagStamps, type Steps } from "./steps.js";
import { RECORD_RETAIN_MS, tagsAsBytes } from "./tag-records.js";

// Writes fenced by invalidations (`SetOptions.startedAt`, FencingState). Every invalidation stamps
// a record with the Redis server's time before it removes anything: `delete(key)` the key's,
// `deletePrefix(namespace)` the namespace's, `clear()` the state's, `invalidateTags` the tags'
// (tag-records.ts). A write whose execution began (converted to server time, conservatively: see
// ServerClock) at or before any stamp covering its key is not stored. A missing fence means no
// invalidation within its retention (six hours, RECORD_RETAIN_MS); a missing tag record still
// makes the write (and its entries) stale.
//
// On one server the check and the SET are one script. In a cluster the records and the entry live
// on different nodes: the write checks, stores, then checks again and takes its value back
// (compare-and-delete) if an invalidation was stamped meanwhile. An invalidation that stamps after
// that second check removes the entry itself, since it stamps before it deletes.

/** Namespaces whose fence key {@link FenceKeys} keeps built (more: it starts over). */
const MAX_NAMESPACE_FENCES = 1024;

/**
 * The record keys a state's fenced writes name: the state's fence and tag epoch (built once), each
 * namespace's (kept), and a key's (one copy of a common head and the key's bytes), as
 * {@link fenceRecordKey} and {@link tagEpochKey} give them. Writes name three each; building them
 * anew with concatenations cost a batch of writes more than its serialization.
 */
export class FenceKeys {
  readonly state: Buffer;
  readonly epoch: Buffer;
  readonly #keyHead: Buffer;
  readonly #namespaces = new Map<string, Buffer>();

  constructor(readonly prefix: string) {
    this.state = fenceRecordKey(prefix, "state", "");
    this.epoch = tagEpochKey(prefix);
    this.#keyHead = fenceRecordKey(prefix, "key", "");
  }

  /** The fence of one key (as `fenceRecordKey(prefix, "key", key)`). */
  key(key: string): Buffer {
    const stored = toRedisKey("", key);
    if (typeof stored !== "string") return Buffer.concat([this.#keyHead, stored]);
    const head = this.#keyHead;
    const fence = Buffer.allocUnsafe(head.length + Buffer.byteLength(stored, "utf8"));
    head.copy(fence, 0);
    fence.write(stored, head.length, "utf8");
    return fence;
  }

  /** The fence of a namespace (as `fenceRecordKey(prefix, "namespace", namespace)`). */
  namespace(namespace: string): Buffer {
    let fence = this.#namespaces.get(namespace);
    if (fence === undefined) {
      if (this.#namespaces.size >= MAX_NAMESPACE_FENCES) this.#namespaces.clear();
      this.#namespaces.set(namespace, (fence = fenceRecordKey(this.prefix, "namespace", namespace)));
    }
    return fence;
  }

  /** The fences covering `key`: the state's, its own, its namespace's (up to the first `|`, if any). */
  covering(key: string): Buffer[] {
    const fences = [this.state, this.key(key)];
    const end = key.indexOf("|");
    if (end >= 0) fences.push(this.namespace(key.slice(0, end + 1)));
    return fences;
  }
}

/**
 * The fence a `deletePrefix(prefix)` stamps: the namespace's when `prefix` is one (ends at its only
 * `|`, as `fn.clear()` passes), else the whole state's (a narrower one would miss some keys).
 */
export function prefixFence(prefix: string, keyPrefix: string): Buffer {
  const end = keyPrefix.indexOf("|");
  return end >= 0 && end === keyPrefix.length - 1
    ? fenceRecordKey(prefix, "namespace", keyPrefix)
    : fenceRecordKey(prefix, "state", "");
}

/**
 * An invalidation: once this process's tagged writes in flight have settled, stamps `fence` (so
 * that writes whose execution began before now are refused), then removes.
 */
export function* invalidating(fence: Buffer, label: string, removal: Steps<void>): Steps<void> {
  yield* settleWrites();
  yield* stampRecords([fence], RECORD_RETAIN_MS, label);
  yield* removal;
}

/** A write to fence. */
export interface FencedWrite {
  /** Whether the state talks to a cluster (the check and the SET cannot be one script). */
  readonly cluster: boolean;
  readonly redisKey: string | Uint8Array;
  /** The entry's key, as messages name it. */
  readonly label: string;
  readonly tags: readonly string[];
  readonly px: number | null;
  /** The entry's bytes for a start (server microseconds). */
  readonly build: (start: number) => Uint8Array;
}

/**
 * Stores the entry unless an invalidation covering it was stamped at or after the moment its
 * execution began (`startedAt`, this process's clock, converted conservatively); whether it did.
 */
export function* writeFenced(keys: FenceKeys, clock: ServerClock, write: FencedWrite, startedAt: number): Steps<boolean> {
  const { prefix, epoch } = keys;
  const { redisKey, label, px } = write;
  const start = yield* clock.lowerBound(startedAt);
  const bytes = write.build(start);
  const tagRecords = tagsAsBytes(write.tags).map((tag) => tagRecordKey(prefix, tag));
  const fences = keys.covering(label);
  if (!write.cluster) return yield* fencedSet(redisKey, label, bytes, px, start, tagRecords, fences, epoch);
  const { stamps } = yield* checkRecords(tagRecords, fences, epoch, px, label);
  if (stamps.some((stamp) => stamp !== "" && Number(stamp) >= start)) return false;
  // A copy goes: the synchronous driver hands the step's bytes over to the worker thread.
  yield* setBytes(redisKey, label, bytes.slice(), px);
  const after = yield* tagStamps([...tagRecords, ...fences], label);
  const stale = after.some((stamp, index) => (stamp === null ? index < tagRecords.length : Number(stamp) >= start));
  if (!stale) return true;
  yield* deleteIfEqual(redisKey, bytes, label);
  return false;
}
