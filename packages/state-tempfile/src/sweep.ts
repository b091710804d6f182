import { sep } from "node:path";
import { CorruptEntryError, isExpired } from "@mimic/core";
import type { EntryEncoding } from "./entry.js";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { listOrThrow, listIfPresent, remove, removeDirectory, removeTree, type Steps } from "./fs-steps.js";
import { sweepFences } from "./fences.js";
import { readHead } from "./head.js";
import { isAbandoned } from "./liveness.js";
import { sweepLeaseDirectory, type LeaseSweep } from "./locks.js";
import {
  ENTRY_FILE,
  FENCE_DIRECTORY,
  LEGACY_SHARD_DIRECTORY,
  LOCK_DIRECTORY,
  NAMESPACE_DIRECTORY,
  SHARD_DIRECTORY,
  TAG_DIRECTORY,
  tempFileWriter,
  trashOwner,
} from "./paths.js";
import { removeLegacyShard } from "./removal.js";
import { sweepTagDirectory, type MarkerSweep } from "./tag-markers.js";

export { STALE_TEMP_MS } from "./liveness.js";

/** What a sweep found and removed. */
export interface SweepReport {
  /** Entry files left in the directory afterwards. */
  entries: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Expired entries removed. */
  expired: number;
  /** Corrupt, truncated, foreign-format or wrongly signed files removed. */
  corrupt: number;
  /**
   * Temporary files, claims, guards and trash directories removed because the process that made
   * them died (or stalled for 10 minutes: `STALE_TEMP_MS`).
   */
  orphans: number;
  /** Live entries removed to honour `maxEntries`/`maxBytes`. */
  evicted: number;
  /** Tag markers removed because their entry no longer carries the tag (overwritten, gone, expired). */
  markers: number;
  /** Leases (`lock`) expired for over a minute, whose holders died, removed. */
  leases: number;
  /** Files of an older release's directory layout removed. */
  obsolete: number;
  /** Directories of invalidation stamps removed (older than any fenced write still needs). */
  fences: number;
}

/** What a sweep is asked to do. */
export interface SweepPlan {
  /** The reference time for expiry, ms since the epoch. */
  readonly now: number;
  /** The format entries must have (serializer, signature). */
  readonly codec: EntryEncoding;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Receives each problem with one file; the walk goes on with the next file. */
  readonly report: (error: Error) => void;
}

interface LiveEntry {
  readonly path: string;
  readonly createdAt: number;
  readonly size: number;
}

/** Where an eviction stops: 90 % of the bound, so that the next few writes do not evict again. */
function lowWater(bound: number): number {
  return bound === Infinity ? Infinity : Math.max(1, Math.floor(bound * 0.9));
}

function* removeReported(path: string, plan: SweepPlan): Steps<boolean> {
  try {
    yield* remove(path);
    return true;
  } catch (error) {
    plan.report(new FileSystemStateError("remove", path, error));
    return false;
  }
}

/** Visits one shard; whether it holds nothing any more (so it can be removed). */
function* visitShard(shard: string, plan: SweepPlan, report: SweepReport, live: LiveEntry[]): Steps<boolean> {
  const names = yield* listIfPresent(shard, plan.report);
  if (names === undefined) return false;
  let kept = 0;
  for (const name of names) {
    const path = shard + sep + name;
    if (ENTRY_FILE.test(name)) {
      let head;
      try {
        head = yield* readHead(path, plan.codec, false);
      } catch (error) {
        if (isNotFound(error)) continue;
        if (!(error instanceof CorruptEntryError)) {
          plan.report(new FileSystemStateError("read", path, error));
          kept++;
          continue;
        }
        plan.report(error);
        if (yield* removeReported(path, plan)) report.corrupt++;
        else kept++;
        continue;
      }
      if (isExpired(head.header.expiresAt, plan.now)) {
        if (yield* removeReported(path, plan)) report.expired++;
        else kept++;
        continue;
      }
      live.push({ path, createdAt: head.header.createdAt, size: head.size });
      kept++;
      continue;
    }
    const writer = tempFileWriter(name);
    if (writer === undefined) {
      kept++; // not ours: leave it alone
      continue;
    }
    let orphan;
    try {
      orphan = yield* isAbandoned(path, writer);
    } catch (error) {
      if (!isNotFound(error)) {
        plan.report(new FileSystemStateError("inspect", path, error));
        kept++;
      }
      continue;
    }
    if (orphan && (yield* removeReported(path, plan))) report.orphans++;
    else kept++;
  }
  return kept === 0;
}

/** Visits a namespace directory's shards, removing the empty ones and then the directory if empty. */
function* visitNamespace(directory: string, plan: SweepPlan, report: SweepReport, live: LiveEntry[]): Steps<void> {
  const shards = yield* listIfPresent(directory, plan.report);
  if (shards === undefined) return;
  let kept = 0;
  for (const shard of shards) {
    if (!SHARD_DIRECTORY.test(shard)) {
      kept++;
      continue;
    }
    const path = directory + sep + shard;
    // A writer that made the shard and has not yet created its file makes it again (see atomic-write).
    const empty = yield* visitShard(path, plan, report, live);
    if (!empty || !(yield* removeDirectorySafely(path, plan))) kept++;
  }
  if (kept === 0) yield* removeDirectorySafely(directory, plan);
}

function* removeDirectorySafely(path: string, plan: SweepPlan): Steps<boolean> {
  try {
    return yield* removeDirectory(path);
  } catch (error) {
    plan.report(new FileSystemStateError("remove", path, error));
    return false;
  }
}

/**
 * Walks a cache directory: removes expired and corrupt entries, temporary files of writers that
 * died, empty directories and abandoned trash; evicts the oldest-written entries while
 * `maxEntries`/`maxBytes` are exceeded (down to 90 % of the bound); then drops tag markers of
 * entries that no longer carry their tag and long-expired leases, and removes an older layout's
 * files. Files that are not Mimic's are left alone.
 * @throws FileSystemStateError when the directory itself cannot be listed.
 */
export function* sweepDirectory(root: string, plan: SweepPlan): Steps<SweepReport> {
  const names = yield* listOrThrow(root);
  const report: SweepReport = {
    entries: 0,
    bytes: 0,
    expired: 0,
    corrupt: 0,
    orphans: 0,
    evicted: 0,
    markers: 0,
    leases: 0,
    obsolete: 0,
    fences: 0,
  };
  const live: LiveEntry[] = [];
  for (const name of names) {
    const path = root + sep + name;
    if (NAMESPACE_DIRECTORY.test(name)) {
      yield* visitNamespace(path, plan, report, live);
    } else if (LEGACY_SHARD_DIRECTORY.test(name)) {
      report.obsolete += yield* removeLegacyShard(path, plan.report);
    } else {
      const owner = trashOwner(name);
      if (owner === undefined) continue;
      try {
        if (yield* isAbandoned(path, owner)) {
          yield* removeTree(path);
          report.orphans++;
        }
      } catch (error) {
        if (!isNotFound(error)) plan.report(new FileSystemStateError("remove", path, error));
      }
    }
  }

  let entries = live.length;
  let bytes = live.reduce((total, entry) => total + entry.size, 0);
  if (entries > plan.maxEntries || bytes > plan.maxBytes) {
    const entryTarget = lowWater(plan.maxEntries);
    const byteTarget = lowWater(plan.maxBytes);
    live.sort((a, b) => a.createdAt - b.createdAt);
    for (const entry of live) {
      if (entries <= entryTarget && bytes <= byteTarget) break;
      if (yield* removeReported(entry.path, plan)) {
        report.evicted++;
        entries--;
        bytes -= entry.size;
      }
    }
  }
  report.entries = entries;
  report.bytes = bytes;

  // After the entries, so that markers of entries removed above go in the same sweep.
  const markers: MarkerSweep = { codec: plan.codec, now: plan.now, report: plan.report, dropped: 0 };
  for (const name of names) {
    if (TAG_DIRECTORY.test(name)) yield* sweepTagDirectory(root, root + sep + name, markers);
  }
  report.markers = markers.dropped;
  if (names.includes(FENCE_DIRECTORY)) report.fences = yield* sweepFences(root, plan.now, plan.report);
  if (names.includes(LOCK_DIRECTORY)) {
    const leases: LeaseSweep = { now: plan.now, report: plan.report, leases: 0, orphans: 0 };
    yield* sweepLeaseDirectory(root + sep + LOCK_DIRECTORY, leases);
    report.leases = leases.leases;
    report.orphans += leases.orphans;
  }
  return report;
}
