import { sep } from "node:path";
import { isExpired } from "@mimic/core";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { decodeHeader } from "./format.js";
import { head, list, mtime, remove, type Steps } from "./fs-steps.js";
import { ENTRY_FILE, SHARD_DIRECTORY, tempFileWriter } from "./paths.js";

/** What a sweep (or a clear) found and removed. */
export interface SweepReport {
  /** Entry files left in the directory afterwards. */
  entries: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Expired entries removed. */
  expired: number;
  /** Corrupt, truncated or foreign-format files removed. */
  corrupt: number;
  /** Temporary files removed because their writer died (or stalled for {@link STALE_TEMP_MS}). */
  orphans: number;
  /** Live entries removed to honour `maxEntries`/`maxBytes` (sweep), or every entry (clear). */
  evicted: number;
}

/** What a walk is asked to do. */
export interface SweepPlan {
  /** `"sweep"` keeps live entries (within the bounds); `"clear"` removes every entry. */
  readonly mode: "sweep" | "clear";
  /** The reference time for expiry, ms since the epoch. */
  readonly now: number;
  /** The serializer name entries must carry. */
  readonly serializerName: Buffer;
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Receives each problem with one file; the walk goes on with the next file. */
  readonly report: (error: Error) => void;
}

/**
 * How old a temporary file of a live writer must be before it counts as abandoned. A write takes
 * milliseconds; a pid can be alive yet belong to another process (pid reuse, another container
 * sharing the directory), so age is the fallback.
 */
export const STALE_TEMP_MS = 10 * 60 * 1000;

function isAlive(pid: number): boolean {
  if (pid < 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: unknown }).code === "EPERM";
  }
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

function* isOrphan(path: string, writer: number): Steps<boolean> {
  if (writer !== process.pid && !isAlive(writer)) return true;
  try {
    return Date.now() - (yield* mtime(path)) > STALE_TEMP_MS;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function* visitShard(shard: string, plan: SweepPlan, report: SweepReport, live: LiveEntry[]): Steps<void> {
  let names: string[];
  try {
    names = yield* list(shard);
  } catch (error) {
    if (!isNotFound(error)) plan.report(new FileSystemStateError("list", shard, error));
    return;
  }
  for (const name of names) {
    const path = shard + sep + name;
    if (ENTRY_FILE.test(name)) {
      if (plan.mode === "clear") {
        if (yield* removeReported(path, plan)) report.evicted++;
        continue;
      }
      let start;
      try {
        start = yield* head(path);
      } catch (error) {
        if (!isNotFound(error)) plan.report(new FileSystemStateError("read", path, error));
        continue;
      }
      let header;
      try {
        header = decodeHeader(start.bytes, start.size, plan.serializerName, path);
      } catch (error) {
        plan.report(error as Error);
        if (yield* removeReported(path, plan)) report.corrupt++;
        continue;
      }
      if (isExpired(header.expiresAt, plan.now)) {
        if (yield* removeReported(path, plan)) report.expired++;
        continue;
      }
      live.push({ path, createdAt: header.createdAt, size: start.size });
      continue;
    }
    const writer = tempFileWriter(name);
    if (writer === undefined) continue; // not ours: leave it alone
    let orphan;
    try {
      orphan = yield* isOrphan(path, writer);
    } catch (error) {
      plan.report(new FileSystemStateError("inspect", path, error));
      continue;
    }
    if (orphan && (yield* removeReported(path, plan))) report.orphans++;
  }
}

/**
 * Walks a cache directory: removes expired and corrupt entries and orphaned temporary files, then
 * evicts the oldest-written entries while `maxEntries`/`maxBytes` are exceeded (down to 90 % of
 * the bound). In `"clear"` mode every entry goes. Files that are not Mimic's are left alone.
 * @throws FileSystemStateError when the directory itself cannot be listed.
 */
export function* sweepDirectory(directory: string, plan: SweepPlan): Steps<SweepReport> {
  let shards: string[];
  try {
    shards = yield* list(directory);
  } catch (error) {
    throw new FileSystemStateError("list", directory, error);
  }
  const report: SweepReport = { entries: 0, bytes: 0, expired: 0, corrupt: 0, orphans: 0, evicted: 0 };
  const live: LiveEntry[] = [];
  for (const shard of shards) {
    if (SHARD_DIRECTORY.test(shard)) yield* visitShard(directory + sep + shard, plan, report, live);
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
  return report;
}
