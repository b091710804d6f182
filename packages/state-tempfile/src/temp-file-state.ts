import { rm } from "node:fs/promises";
import {
  StateClosedError,
  StateError,
  validateTtl,
  type BatchEntry,
  type BatchReadingState,
  type BatchWritingState,
  type CacheEntry,
  type FencingState,
  type LockingState,
  type PrefixDeletingState,
  type SetOptions,
  type TaggingState,
} from "@mimic/core";
import { preciseNow } from "@mimic/core/state-kit";
import { createPrivateDirectory, openStaticDirectory } from "./directory.js";
import { encodeEntry, type EntryEncoding } from "./entry.js";
import { deleteEntry, readEntry, storeEntry } from "./entry-steps.js";
import { FileSystemStateError, type UnsafeDirectoryError } from "./errors.js";
import { fenceOf } from "./fences.js";
import { keepAtExit, removeAtExit } from "./exit-cleanup.js";
import { encodeSerializerName } from "./format.js";
import { runAsync, runRead, runSync, runWrite } from "./fs-drivers.js";
import { reportProblem, throwFirst } from "./problems.js";
import type { Steps } from "./fs-steps.js";
import { acquireLease, leaseMs, releaseLease } from "./locks.js";
import { resolveOptions, type ResolvedOptions, type TempFileStateOptions } from "./options.js";
import { EntryLocator, type EntryLocation } from "./paths.js";
import { clearSteps, deletePrefixSteps } from "./removal.js";
import { sweepDirectory, type SweepPlan, type SweepReport } from "./sweep.js";
import { SweepSchedule } from "./sweep-schedule.js";
import { invalidateTagsSteps, normalizeTags } from "./tag-markers.js";
import { inTrustedDirectory, verifyDirectory, type TrustedDirectory } from "./trusted-directory.js";

/**
 * A Mimic state that keeps each entry in a file: one file per key, written atomically (temporary
 * file + `rename`), so that any number of processes can read and write the same directory.
 *
 * Not static (the default), the directory is private to this process and removed on `close()` and
 * at normal exit; the state is then process-local (`local === true`). Static, the directory is
 * shared with other processes and later runs, and the state is shared (`local === false`).
 *
 * Besides `IState` it offers the optional capabilities core uses: `deletePrefix` (for
 * `fn.clear()`: one namespace is one directory), tags (`set(…, { tags })` and `invalidateTags`),
 * leases (`lock`/`unlock`, for the `lock` option), fenced writes, and `getMany`/`setMany`.
 *
 * Operations throw (or reject with) a {@link FileSystemStateError} when the file system fails, a
 * `CorruptEntryError` for a file that is not a complete entry, or not correctly signed with the
 * `secret` (the file is removed), and an {@link UnsafeDirectoryError} when the directory, its
 * `basePath` or an entry file could have been written by another user (nothing there is read);
 * Mimic treats all three as a miss and reports them. They never return a wrong or partial value.
 *
 * @example
 * const slowSquare = Mime({ ttl: 60, state: new TempFileState({ static: true }), name: "slowSquare" })((n: number) => n * n);
 */
export class TempFileState implements TaggingState, PrefixDeletingState, LockingState, FencingState, BatchReadingState, BatchWritingState {
  /**
   * Writes are fenced by invalidations: a `set` given `startedAt` stores nothing when an invalidation
   * of its key (`delete`, a `deletePrefix` covering it, `clear`, `invalidateTags` of one of its tags)
   * began at or after that moment, in any process sharing the directory, or when the execution began
   * more than 10 minutes ago. See the README's "Invalidation and writes in flight".
   */
  readonly fencesWrites = true as const;

  /**
   * `true` for a private directory (entries never leave this process), `false` for a static one
   * (shared with other processes, so Mimic uses stable function identities as keys).
   */
  readonly local: boolean;

  private readonly options: ResolvedOptions;
  private readonly codec: EntryEncoding;
  private trusted: TrustedDirectory | undefined;
  private locator: EntryLocator | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<SweepReport> | undefined;
  private schedule: SweepSchedule | undefined;

  /**
   * Checks the options; the directory is made on first use.
   * @throws InvalidOptionError for an unknown option or a value of the wrong type.
   */
  constructor(options: TempFileStateOptions = {}) {
    this.options = resolveOptions(options);
    this.codec = {
      serializer: this.options.serializer,
      serializerName: encodeSerializerName(this.options.serializer.name),
      secret: this.options.secret,
    };
    this.local = !this.options.static;
  }

  /**
   * The directory holding the entries; creates it on first access.
   * @throws FileSystemStateError when it cannot be created, UnsafeDirectoryError when it or its
   *   `basePath` is not safe to use (another owner, writable by others, a symbolic link).
   */
  get directory(): string {
    return this.open().path;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The path of the file that holds (or would hold) `key`'s entry, for diagnostics and tests; the
   * layout is described in the README and may change between major versions.
   */
  entryFile(key: string): string {
    return this.locate(key).file;
  }

  /** @inheritDoc @mimic/core!index.IState.get */
  async get(key: string): Promise<CacheEntry | undefined> {
    const location = this.locate(key);
    return runRead(readEntry(this.open(), location, this.codec), location.file, this.options.inlineReadBytes);
  }

  /** Reads many entries (each as `get` would, concurrently), in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  /** Stores many entries, each as `set` would (its own ttl, tags and fence). */
  async setMany(entries: readonly BatchEntry[]): Promise<void> {
    await Promise.all(entries.map(({ key, value, ttl, options }) => this.set(key, value, ttl, options)));
  }

  /** @inheritDoc @mimic/core!index.IState.getSync */
  getSync(key: string): CacheEntry | undefined {
    const location = this.locate(key);
    return runSync(readEntry(this.open(), location, this.codec));
  }

  /**
   * Stores `value` under `key`, replacing any previous entry, its expiry and its tags.
   * @param ttl seconds until the entry expires (fractions allowed); `null` means never.
   * @param options `tags`: the entry goes when any of them is invalidated (`invalidateTags`).
   *   `startedAt` (ms since the epoch): when the execution that produced `value` began; the value is
   *   not stored if an invalidation covering it began at or after then (see {@link fencesWrites}).
   * @throws FileSystemStateError when the file system fails (no partial entry is left, and no entry
   *   that carries a tag the index does not know), StateError when the value cannot be serialized.
   */
  async set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    const write = this.prepareWrite(key, value, ttl, options, "TempFileState.set");
    const bytes = write.chunks.reduce((size, chunk) => size + chunk.length, 0);
    const inlineUpTo = this.options.fsync ? 0 : this.options.inlineWriteBytes;
    if (await runWrite(write.steps, bytes, inlineUpTo)) await this.sweepIfDue(this.scheduleOf().countWrite(write.chunks));
  }

  /** Synchronous {@link TempFileState.set}. */
  setSync(key: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    const write = this.prepareWrite(key, value, ttl, options, "TempFileState.setSync");
    if (runSync(write.steps)) this.sweepSyncIfDue(this.scheduleOf().countWrite(write.chunks));
  }

  /** @inheritDoc @mimic/core!index.IState.delete */
  async delete(key: string): Promise<void> {
    const location = this.locate(key);
    await runAsync(deleteEntry(this.open(), location, preciseNow()));
    await this.sweepIfDue(this.scheduleOf().countInvalidation());
  }

  /** @inheritDoc @mimic/core!index.IState.deleteSync */
  deleteSync(key: string): void {
    const location = this.locate(key);
    runSync(deleteEntry(this.open(), location, preciseNow()));
    this.sweepSyncIfDue(this.scheduleOf().countInvalidation());
  }

  /**
   * Removes every entry (and tag marker) of this state's directory, and nothing outside it; leases
   * and files that are not Mimic's stay. For a static state that is the directory every process
   * shares. Each namespace directory is moved aside and then removed, so readers see it go at once.
   * @throws FileSystemStateError for the first directory that could not be removed (after trying all).
   */
  async clear(): Promise<void> {
    this.afterClear(await runAsync(this.clearSteps()));
  }

  /** Synchronous {@link TempFileState.clear}. */
  clearSync(): void {
    this.afterClear(runSync(this.clearSteps()));
  }

  /**
   * Removes every entry whose key starts with `prefix`. A namespace (a prefix ending with the key's
   * first `|`, which is what `fn.clear()` passes) is one directory, moved aside and removed at once;
   * any other prefix is found by reading the keys stored in the entries.
   * @throws FileSystemStateError for the first file or directory that could not be removed.
   */
  async deletePrefix(prefix: string): Promise<void> {
    const steps = this.prefixSteps(prefix);
    this.throwFirst(await runAsync(steps));
    await this.sweepIfDue(this.scheduleOf().countInvalidation());
  }

  /** Synchronous {@link TempFileState.deletePrefix}. */
  deletePrefixSync(prefix: string): void {
    this.throwFirst(runSync(this.prefixSteps(prefix)));
    this.sweepSyncIfDue(this.scheduleOf().countInvalidation());
  }

  /**
   * Removes every entry of this state's directory that carries any of `tags` (written with
   * `set(…, { tags })`), in every process that shares the directory. An entry rewritten without
   * the tag since is kept.
   * @throws FileSystemStateError for the first entry that could not be removed (after trying all;
   *   its marker is kept, so invalidating the tag again retries it).
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const wanted = normalizeTags(tags, "TempFileState.invalidateTags");
    const trusted = this.open();
    if (wanted.length === 0) return;
    const steps = invalidateTagsSteps(trusted.path, trusted.stamps, wanted, this.codec, preciseNow());
    this.throwFirst(await runAsync(inTrustedDirectory(trusted, steps)));
    await this.sweepIfDue(this.scheduleOf().countInvalidation());
  }

  /**
   * Takes a lease on `key` for `lease` seconds unless someone (in any process sharing the
   * directory) holds one; a lease whose time has run out (its holder died or overran) is taken over.
   * @returns a random token proving ownership, or `undefined` when the lease is held
   * @throws InvalidTtlError for a lease that is not a positive number of seconds;
   *   FileSystemStateError when the lease cannot be written; UnsafeDirectoryError when the directory
   *   is no longer the one verified
   */
  async lock(key: string, lease: number): Promise<string | undefined> {
    const ms = leaseMs(lease);
    const { digest } = this.locate(key);
    const trusted = this.open();
    await runAsync(verifyDirectory(trusted));
    return acquireLease(trusted.path, digest, ms);
  }

  /**
   * Releases the lease on `key` if `token` still holds it; one that expired and was taken over is
   * left to its new holder.
   * @throws FileSystemStateError when the lease cannot be read or removed
   */
  async unlock(key: string, token: string): Promise<void> {
    const { digest } = this.locate(key);
    const trusted = this.open();
    await runAsync(verifyDirectory(trusted));
    await releaseLease(trusted.path, digest, token);
  }

  /**
   * Sweeps the directory now: removes expired entries, corrupt files and what processes that died
   * left behind, then evicts the oldest entries beyond `maxEntries`/`maxBytes`, and drops stale tag
   * markers, leases and invalidation stamps. Problems with single files go to `onError`. Concurrent
   * calls share one sweep.
   * @throws FileSystemStateError when the directory cannot be listed; UnsafeDirectoryError when it is
   *   no longer the directory verified (see the README's Security section).
   */
  sweep(): Promise<SweepReport> {
    if (this.sweeping) return this.sweeping;
    let trusted: TrustedDirectory;
    try {
      trusted = this.open();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const schedule = this.scheduleOf();
    const started = schedule.start();
    const sweeping = runAsync(inTrustedDirectory(trusted, sweepDirectory(trusted.path, this.plan())))
      .then((report) => schedule.finish(report, started))
      .finally(() => {
        this.sweeping = undefined;
      });
    this.sweeping = sweeping;
    return sweeping;
  }

  /** Synchronous {@link TempFileState.sweep}. */
  sweepSync(): SweepReport {
    const trusted = this.open();
    const schedule = this.scheduleOf();
    const started = schedule.start();
    return schedule.finish(runSync(inTrustedDirectory(trusted, sweepDirectory(trusted.path, this.plan()))), started);
  }

  /**
   * Stops the sweep timer and, unless the state is static, removes its directory. Later calls of
   * any operation throw `StateClosedError`. Calling it again does nothing.
   * @throws FileSystemStateError when the private directory cannot be removed (it is then still
   *   removed at exit).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
    const directory = this.trusted?.path;
    if (directory === undefined || this.options.static) return;
    try {
      await rm(directory, { recursive: true, force: true });
    } catch (error) {
      throw new FileSystemStateError("remove", directory, error);
    }
    keepAtExit(directory);
  }

  /** The verified cache directory; made and checked on first use. */
  private open(): TrustedDirectory {
    if (this.closed) throw new StateClosedError("TempFileState");
    if (this.trusted !== undefined) return this.trusted;
    const { basePath } = this.options;
    const directory = this.options.static ? openStaticDirectory(basePath) : createPrivateDirectory(basePath);
    if (!this.options.static) removeAtExit(directory.path);
    this.trusted = directory;
    const { sweepEvery, maxEntries, maxBytes } = this.options;
    this.schedule = new SweepSchedule(sweepEvery, maxEntries, maxBytes, this.options.static);
    if (this.options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.sweep().catch((error: unknown) => this.report(error));
      }, this.options.sweepIntervalMs);
      this.timer.unref();
    }
    return directory;
  }

  private locate(key: string): EntryLocation {
    if (this.locator === undefined || this.closed) this.locator = new EntryLocator(this.open().path);
    return this.locator.locate(key);
  }

  private clearSteps(): Steps<Error[]> {
    const trusted = this.open();
    return inTrustedDirectory(trusted, clearSteps(trusted.path, trusted.stamps, preciseNow(), (error) => this.report(error)));
  }

  private prefixSteps(prefix: string): Steps<Error[]> {
    if (typeof prefix !== "string") {
      throw new TypeError(`TempFileState.deletePrefix: prefix must be a string, got ${typeof prefix}`);
    }
    const trusted = this.open();
    return inTrustedDirectory(trusted, deletePrefixSteps(trusted.path, trusted.stamps, prefix, preciseNow(), this.codec, (error) => this.report(error)));
  }

  /** Checks and encodes a write; its steps are run by the caller's driver. */
  private prepareWrite(
    key: string,
    value: unknown,
    ttl: number | null,
    options: SetOptions | undefined,
    where: string,
  ): { steps: Steps<boolean>; chunks: readonly Buffer[] } {
    const location = this.locate(key);
    const tags = normalizeTags(options?.tags, where);
    const fence = fenceOf(key, location, tags, options?.startedAt, where);
    const chunks = encodeEntry(value, validateTtl(ttl, "TempFileState.set"), location.keyBytes, tags, this.codec, Date.now());
    return { steps: storeEntry(this.open(), location, chunks, tags, this.options.fsync, fence), chunks };
  }

  /** Sweeps when a write or invalidation called for it; a failed sweep is reported, not thrown. */
  private async sweepIfDue(due: boolean): Promise<void> {
    if (due) await this.sweep().catch((error: unknown) => this.report(error));
  }

  /** Synchronous {@link TempFileState.sweepIfDue}. */
  private sweepSyncIfDue(due: boolean): void {
    if (!due) return;
    try {
      this.sweepSync();
    } catch (error) {
      this.report(error);
    }
  }

  /** The sweep schedule of the open directory. */
  private scheduleOf(): SweepSchedule {
    this.open();
    return this.schedule as SweepSchedule;
  }

  private afterClear(problems: readonly Error[]): void {
    this.scheduleOf().cleared();
    this.throwFirst(problems);
  }

  private throwFirst(problems: readonly Error[]): void {
    throwFirst(problems, (error) => this.report(error));
  }

  private report(error: unknown): void {
    reportProblem(this.options.onError, error);
  }

  private plan(): SweepPlan {
    const { maxEntries, maxBytes } = this.options;
    return { now: Date.now(), codec: this.codec, maxEntries, maxBytes, report: (error) => this.report(error) };
  }
}
