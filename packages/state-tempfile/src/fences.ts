import { sep } from "node:path";
import { InvalidOptionError } from "@mimic/core";
import { describeValue } from "@mimic/core/state-kit";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { append, list, listIfPresent, makeDirectory, readOwnedIfPresent, removeTree, type Steps } from "./fs-steps.js";
import { FENCE_DIRECTORY, shortId, type EntryLocation } from "./paths.js";

/*
 * Invalidation stamps: what fences writes (`set(…, { startedAt })`) across processes.
 *
 * Every invalidation first appends the time it began (ms since the epoch with a fraction, from
 * `preciseNow()` of `@mimic/core/state-kit`, the clock core reads `startedAt` from) to a
 * stamp file per scope it covers, then removes entries: `all` (clear, deletePrefix("")), `n-<namespace
 * id>` (a function's namespace), `k-<key digest>` (delete), `t-<tag id>` (invalidateTags), and
 * `prefixes` (any other prefix; its records hold the prefix). Appends (`O_APPEND`) of several
 * processes never overwrite each other, so a stamp file's latest time is the maximum of its records.
 *
 * A fenced write is published only after a check: it writes its temporary file (and its tag markers),
 * then reads the stamps that cover its key, and renames the file into place only when none of them is
 * at or after its `startedAt`. An invalidation removes, after its stamp, the temporary files of the
 * keys it covers and then their entries. So, for an invalidation and a fenced write that began before
 * it, either the write's check sees the stamp (and drops the file), or the stamp came after the check,
 * and the removal that follows it finds the temporary file (removed: the rename fails, nothing is
 * stored) or the entry (removed). A value is never visible, not even for a moment, after the
 * invalidation resolved; readers need no check of their own.
 *
 * Stamps are grouped in directories per {@link FENCE_WINDOW_MS} of time (`f2/<window number>/`), and a
 * sweep removes the windows before the previous one. That never drops a stamp a write still needs:
 * a fenced write whose execution began more than one window ago is not stored at all (its check
 * could not be complete), and every other write's check reads only the current and previous windows.
 *
 * A private directory (not `static`) is this process's alone: its stamps are kept in memory
 * ({@link StampsInMemory}), with the same scopes, windows and order of steps, so a fenced write there
 * costs no file system call for its check and an invalidation none for its stamp. The stamp files are
 * for directories that other processes share ({@link StampFiles}).
 */

/** How long a fenced execution may take and still be stored; also the width of a stamp directory. */
export const FENCE_WINDOW_MS = 10 * 60 * 1000;

/** The number of the window holding `time`. */
function windowOf(time: number): number {
  return Math.floor(time / FENCE_WINDOW_MS);
}

/** Names of the stamp directories. */
const WINDOW_DIRECTORY = /^\d+$/;

const ALL = "all";
const PREFIXES = "prefixes";
const namespaceScope = (namespaceId: string): string => `n-${namespaceId}`;
const keyScope = (digest: string): string => `k-${digest}`;
const tagScope = (tag: string): string => `t-${shortId(tag)}`;

/** What an invalidation covers. */
export type InvalidationScope =
  | { readonly kind: "all" }
  | { readonly kind: "namespace"; readonly namespaceId: string }
  | { readonly kind: "key"; readonly location: EntryLocation }
  | { readonly kind: "tags"; readonly tags: readonly string[] }
  | { readonly kind: "prefix"; readonly prefix: string };

function timeRecord(time: number): Buffer {
  const record = Buffer.allocUnsafe(8);
  record.writeDoubleLE(time, 0);
  return record;
}

function prefixRecord(time: number, prefix: string): Buffer {
  const text = Buffer.from(prefix, "utf16le");
  const record = Buffer.allocUnsafe(12 + text.length);
  record.writeDoubleLE(time, 0);
  record.writeUInt32LE(text.length, 8);
  text.copy(record, 12);
  return record;
}

/** The stamp names of a scope whose records are plain times (every scope but a prefix). */
function timeScopesOf(scope: Exclude<InvalidationScope, { kind: "prefix" }>): string[] {
  switch (scope.kind) {
    case "all":
      return [ALL];
    case "namespace":
      return [namespaceScope(scope.namespaceId)];
    case "key":
      return [keyScope(scope.location.digest)];
    case "tags":
      return scope.tags.map(tagScope);
  }
}

/** The stamp files an invalidation appends to, with the record for each. */
function stampsOf(scope: InvalidationScope, time: number): Array<[string, Buffer]> {
  if (scope.kind === "prefix") return [[PREFIXES, prefixRecord(time, scope.prefix)]];
  return timeScopesOf(scope).map((name) => [name, timeRecord(time)]);
}

/**
 * Where invalidations are stamped and fenced writes check them: files in the directory
 * ({@link StampFiles}) or this process's memory ({@link StampsInMemory}).
 */
export interface StampBook {
  /**
   * Records that an invalidation covering `scope` began at `time`. Call it before removing anything.
   * @throws FileSystemStateError naming the stamp that could not be written
   */
  stamp(scope: InvalidationScope, time: number): Steps<void>;
  /**
   * Whether an invalidation covering the write began at or after its `startedAt` (then the write must
   * not be published), or the execution began too long ago to tell (more than {@link FENCE_WINDOW_MS}).
   * @throws FileSystemStateError when a stamp cannot be read (the caller drops the write)
   */
  isFenced(fence: Fence, now: number): Steps<boolean>;
}

/** The stamp names (other than `prefixes`) that cover a fenced write. */
function scopesCovering(fence: Fence): string[] {
  const namespaceId = fence.location.marker.slice(0, fence.location.marker.indexOf("-"));
  return [ALL, namespaceScope(namespaceId), keyScope(fence.location.digest), ...fence.tags.map(tagScope)];
}

/**
 * Whether the write's execution began too long ago for its check to be complete (more than
 * {@link FENCE_WINDOW_MS} before `now`): such a write is fenced.
 */
const tooOldToCheck = (fence: Fence, now: number): boolean => !(now - fence.startedAt <= FENCE_WINDOW_MS);

/** The numbers of the windows that may hold a stamp covering the write: from its start's to now's. */
function windowsSince(fence: Fence, now: number): number[] {
  const windows: number[] = [];
  for (let number = windowOf(fence.startedAt); number <= windowOf(now); number++) windows.push(number);
  return windows;
}

/** Whether `prefix` (a prefix invalidation's) covers `key`. */
const prefixCovers = (prefix: string, key: string): boolean => key.startsWith(prefix);

/** Stamps as files in a directory's `f2/<window>/`, shared by every process that uses the directory. */
export class StampFiles implements StampBook {
  constructor(private readonly root: string) {}

  stamp(scope: InvalidationScope, time: number): Steps<void> {
    return stampInvalidation(this.root, scope, time);
  }

  isFenced(fence: Fence, now: number): Steps<boolean> {
    return isFencedByFiles(this.root, fence, now);
  }
}

/**
 * The most stamps one window keeps in memory; past it, they collapse into one `all` stamp at the
 * latest time among them (see {@link StampsInMemory}).
 */
export const MAX_STAMPS_IN_MEMORY = 10_000;

/** The stamps of one window kept in memory: each scope's latest time, and the prefix records. */
interface WindowInMemory {
  readonly latest: Map<string, number>;
  readonly prefixes: { readonly time: number; readonly prefix: string }[];
}

/**
 * Stamps kept in this process's memory, for a private directory: the same scopes and windows as
 * {@link StampFiles}. Windows before the previous one are forgotten as new ones begin, as the sweep
 * removes them on disk. A window that reaches {@link MAX_STAMPS_IN_MEMORY} stamps (invalidations of
 * that many distinct keys in 10 minutes) collapses them into one `all` stamp at their latest time: it
 * fences every write that any of them fenced, and more (those are then not stored, never wrongly
 * stored), so memory stays bounded.
 */
export class StampsInMemory implements StampBook {
  readonly #windows = new Map<number, WindowInMemory>();

  /** No file system step: the generator form only lets it run in the same step lists as {@link StampFiles}. */
  *stamp(scope: InvalidationScope, time: number): Steps<void> {
    const number = windowOf(time);
    let window = this.#windows.get(number);
    if (window === undefined) {
      window = { latest: new Map(), prefixes: [] };
      this.#windows.set(number, window);
      for (const old of this.#windows.keys()) if (old < number - 1) this.#windows.delete(old);
    }
    if (scope.kind === "prefix") window.prefixes.push({ time, prefix: scope.prefix });
    else for (const name of timeScopesOf(scope)) window.latest.set(name, Math.max(window.latest.get(name) ?? -Infinity, time));
    if (window.latest.size + window.prefixes.length > MAX_STAMPS_IN_MEMORY) collapse(window);
  }

  /** No file system step either: the records are this process's own. */
  *isFenced(fence: Fence, now: number): Steps<boolean> {
    if (tooOldToCheck(fence, now)) return true;
    if (this.#windows.size === 0) return false;
    const names = scopesCovering(fence);
    for (const number of windowsSince(fence, now)) {
      const window = this.#windows.get(number);
      if (window === undefined) continue;
      for (const name of names) if ((window.latest.get(name) ?? -Infinity) >= fence.startedAt) return true;
      for (const { time, prefix } of window.prefixes) if (time >= fence.startedAt && prefixCovers(prefix, fence.key)) return true;
    }
    return false;
  }
}

/** Replaces a window's stamps with one `all` stamp at their latest time (see {@link StampsInMemory}). */
function collapse(window: WindowInMemory): void {
  let latest = -Infinity;
  for (const time of window.latest.values()) latest = Math.max(latest, time);
  for (const { time } of window.prefixes) latest = Math.max(latest, time);
  window.latest.clear();
  window.prefixes.length = 0;
  window.latest.set(ALL, latest);
}

/** {@link StampBook.stamp} on disk. */
function* stampInvalidation(root: string, scope: InvalidationScope, time: number): Steps<void> {
  const directory = `${root}${sep}${FENCE_DIRECTORY}${sep}${windowOf(time)}`;
  for (const [name, record] of stampsOf(scope, time)) {
    const path = directory + sep + name;
    try {
      yield* append(path, record);
    } catch (error) {
      if (!isNotFound(error)) throw new FileSystemStateError("record the invalidation in", path, error);
      try {
        yield* makeDirectory(directory);
        yield* append(path, record);
      } catch (again) {
        throw new FileSystemStateError("record the invalidation in", path, again);
      }
    }
  }
}

/** A stamp file's bytes, or `undefined` when it is missing (most are: only invalidated scopes have one). */
function* readStamps(path: string): Steps<Buffer | undefined> {
  return (yield* readOwnedIfPresent(path))?.bytes;
}

/** The latest time in a stamp file of plain times; -Infinity when it is missing. */
function* latestTime(path: string): Steps<number> {
  const bytes = yield* readStamps(path);
  if (bytes === undefined) return -Infinity;
  let latest = -Infinity;
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) latest = Math.max(latest, bytes.readDoubleLE(offset));
  return latest;
}

/** The latest time of a record in the `prefixes` file whose prefix starts `key`; -Infinity when none. */
function* latestPrefixTime(path: string, key: string): Steps<number> {
  const bytes = yield* readStamps(path);
  if (bytes === undefined) return -Infinity;
  let latest = -Infinity;
  let offset = 0;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32LE(offset + 8);
    if (offset + 12 + length > bytes.length) break;
    if (prefixCovers(bytes.toString("utf16le", offset + 12, offset + 12 + length), key)) {
      latest = Math.max(latest, bytes.readDoubleLE(offset));
    }
    offset += 12 + length;
  }
  return latest;
}

/** A write to fence: its key and tags, and when the execution that produced its value began. */
export interface Fence {
  readonly key: string;
  readonly location: EntryLocation;
  readonly tags: readonly string[];
  readonly startedAt: number;
}

/**
 * The fence of a write given `startedAt` (none without it).
 * @throws InvalidOptionError for a `startedAt` that is not a number of ms since the epoch
 */
export function fenceOf(
  key: string,
  location: EntryLocation,
  tags: readonly string[],
  startedAt: unknown,
  where: string,
): Fence | undefined {
  if (startedAt === undefined) return undefined;
  if (typeof startedAt !== "number" || Number.isNaN(startedAt)) {
    const shown = typeof startedAt === "number" ? String(startedAt) : describeValue(startedAt);
    throw new InvalidOptionError(`${where}: startedAt must be a time in ms since the epoch, got ${shown}`);
  }
  return { key, location, tags, startedAt };
}

/** {@link StampBook.isFenced} on disk. */
function* isFencedByFiles(root: string, fence: Fence, now: number): Steps<boolean> {
  if (tooOldToCheck(fence, now)) return true;
  const names = scopesCovering(fence);
  // Only the windows that exist: without recent invalidations, the check is one failed listing. A
  // window made after this listing holds stamps written after the check began, whose removals find
  // this write's temporary file or entry.
  let windows: string[] | undefined;
  try {
    windows = yield* list(`${root}${sep}${FENCE_DIRECTORY}`);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw new FileSystemStateError("list", `${root}${sep}${FENCE_DIRECTORY}`, error);
  }
  for (const window of windowsSince(fence, now)) {
    if (!windows.includes(String(window))) continue;
    const directory = `${root}${sep}${FENCE_DIRECTORY}${sep}${window}`;
    try {
      for (const name of names) {
        if ((yield* latestTime(directory + sep + name)) >= fence.startedAt) return true;
      }
      if ((yield* latestPrefixTime(directory + sep + PREFIXES, fence.key)) >= fence.startedAt) return true;
    } catch (error) {
      throw new FileSystemStateError("read the invalidation stamps in", directory, error);
    }
  }
  return false;
}

/**
 * Removes the stamp directories no write needs any more (before the previous window).
 * @returns how many were removed
 */
export function* sweepFences(root: string, now: number, report: (error: Error) => void): Steps<number> {
  const directory = `${root}${sep}${FENCE_DIRECTORY}`;
  const names = yield* listIfPresent(directory, report);
  if (names === undefined) return 0;
  let removed = 0;
  for (const name of names) {
    if (!WINDOW_DIRECTORY.test(name) || Number(name) >= windowOf(now) - 1) continue;
    try {
      yield* removeTree(directory + sep + name);
      removed++;
    } catch (error) {
      report(new FileSystemStateError("remove", directory + sep + name, error));
    }
  }
  return removed;
}
