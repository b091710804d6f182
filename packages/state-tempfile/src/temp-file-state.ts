import { readFileSync, unlinkSync } from "node:fs";
import { readFile, rm, unlink } from "node:fs/promises";
import { StateClosedError, StateError, validateTtl, type CacheEntry, type IState } from "@mimic/core";
import { writeEntry, writeEntrySync } from "./atomic-write.js";
import { createPrivateDirectory, openStaticDirectory } from "./directory.js";
import { decodeEntry, encodeEntry } from "./entry.js";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { keepAtExit, removeAtExit } from "./exit-cleanup.js";
import { encodeSerializerName } from "./format.js";
import { runAsync, runSync } from "./fs-steps.js";
import { resolveOptions, type ResolvedOptions, type TempFileStateOptions } from "./options.js";
import { EntryLocator, type EntryLocation } from "./paths.js";
import { sweepDirectory, type SweepPlan, type SweepReport } from "./sweep.js";

/**
 * A Mimic state that keeps each entry in a file: one file per key, written atomically (temporary
 * file + `rename`), so that any number of processes can read and write the same directory.
 *
 * Not static (the default), the directory is private to this process and removed on `close()` and
 * at normal exit; the state is then process-local (`local === true`). Static, the directory is
 * shared with other processes and later runs, and the state is shared (`local === false`).
 *
 * Operations throw (or reject with) a {@link FileSystemStateError} when the file system fails and a
 * `CorruptEntryError` for a file that is not a complete entry (the file is removed); Mimic treats
 * both as a miss and reports them. They never return a wrong or partial value.
 *
 * @example
 * ```ts
 * import { Mime } from "@mimic/core";
 * import { TempFileState } from "@mimic/state-tempfile";
 *
 * const state = new TempFileState({ static: true });
 * const slowSquare = Mime({ ttl: 60, state, name: "slowSquare" })((n: number) => n * n);
 * ```
 */
export class TempFileState implements IState {
  /**
   * `true` for a private directory (entries never leave this process), `false` for a static one
   * (shared with other processes, so Mimic uses stable function identities as keys).
   */
  readonly local: boolean;

  private readonly options: ResolvedOptions;
  private readonly serializerName: Buffer;
  private path: string | undefined;
  private locator: EntryLocator | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<SweepReport> | undefined;
  // Bookkeeping that decides when a write triggers a sweep. What other processes wrote is learnt
  // at the next sweep; until a first sweep, a shared directory's content is unknown (Infinity).
  private writesSinceSweep = 0;
  private bytesSinceSweep = 0;
  private entriesAtSweep = 0;
  private bytesAtSweep = 0;

  /**
   * Checks the options; the directory is made on first use.
   * @throws InvalidOptionError for an unknown option or a value of the wrong type.
   */
  constructor(options: TempFileStateOptions = {}) {
    this.options = resolveOptions(options);
    this.serializerName = encodeSerializerName(this.options.serializer.name);
    this.local = !this.options.static;
  }

  /**
   * The directory holding the entries; creates it on first access.
   * @throws FileSystemStateError when it cannot be created, StateError when a static directory
   *   is not safe to use (another owner, writable by others, a symbolic link).
   */
  get directory(): string {
    return this.open();
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @inheritDoc IState.get */
  async get(key: string): Promise<CacheEntry | undefined> {
    const { file } = this.locate(key);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new FileSystemStateError("read", file, error);
    }
    const decoded = decodeEntry(bytes, file, this.options.serializer, this.serializerName, Date.now());
    if (decoded.kind === "hit") return decoded.entry;
    await unlink(file).catch(() => undefined);
    if (decoded.kind === "corrupt") throw decoded.error;
    return undefined;
  }

  /** @inheritDoc IState.getSync */
  getSync(key: string): CacheEntry | undefined {
    const { file } = this.locate(key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new FileSystemStateError("read", file, error);
    }
    const decoded = decodeEntry(bytes, file, this.options.serializer, this.serializerName, Date.now());
    if (decoded.kind === "hit") return decoded.entry;
    try {
      unlinkSync(file);
    } catch {
      // Another process removed or replaced it; either way this read is a miss.
    }
    if (decoded.kind === "corrupt") throw decoded.error;
    return undefined;
  }

  /** @inheritDoc IState.set */
  async set(key: string, value: unknown, ttl: number | null): Promise<void> {
    const location = this.locate(key);
    const chunks = this.encode(value, ttl);
    await writeEntry(location, chunks, this.options.fsync);
    if (this.countWrite(chunks)) {
      await this.sweep().catch((error: unknown) => this.report(error));
    }
  }

  /** @inheritDoc IState.setSync */
  setSync(key: string, value: unknown, ttl: number | null): void {
    const location = this.locate(key);
    const chunks = this.encode(value, ttl);
    writeEntrySync(location, chunks, this.options.fsync);
    if (this.countWrite(chunks)) {
      try {
        this.sweepSync();
      } catch (error) {
        this.report(error);
      }
    }
  }

  /** @inheritDoc IState.delete */
  async delete(key: string): Promise<void> {
    const { file } = this.locate(key);
    try {
      await unlink(file);
    } catch (error) {
      if (!isNotFound(error)) throw new FileSystemStateError("remove", file, error);
    }
  }

  /** @inheritDoc IState.deleteSync */
  deleteSync(key: string): void {
    const { file } = this.locate(key);
    try {
      unlinkSync(file);
    } catch (error) {
      if (!isNotFound(error)) throw new FileSystemStateError("remove", file, error);
    }
  }

  /**
   * Removes every entry of this state's directory (and temporary files whose writer died), and
   * nothing outside it. For a static state that is the directory every process shares.
   * @throws FileSystemStateError for the first file that could not be removed (after trying all).
   */
  async clear(): Promise<void> {
    const directory = this.open();
    const problems: Error[] = [];
    const report = await runAsync(sweepDirectory(directory, this.plan("clear", problems)));
    this.afterClear(report, problems);
  }

  /** Synchronous {@link TempFileState.clear}. */
  clearSync(): void {
    const directory = this.open();
    const problems: Error[] = [];
    const report = runSync(sweepDirectory(directory, this.plan("clear", problems)));
    this.afterClear(report, problems);
  }

  /**
   * Sweeps the directory now: removes expired entries, corrupt files and temporary files left by
   * writers that died, then evicts the oldest entries beyond `maxEntries`/`maxBytes`. Problems with
   * single files go to `onError`. Concurrent calls share one sweep.
   * @throws FileSystemStateError when the directory cannot be listed.
   */
  sweep(): Promise<SweepReport> {
    if (this.sweeping) return this.sweeping;
    let directory: string;
    try {
      directory = this.open();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const started = this.startSweep();
    const sweeping = runAsync(sweepDirectory(directory, this.plan("sweep")))
      .then((report) => this.afterSweep(report, started))
      .finally(() => {
        this.sweeping = undefined;
      });
    this.sweeping = sweeping;
    return sweeping;
  }

  /** Synchronous {@link TempFileState.sweep}. */
  sweepSync(): SweepReport {
    const directory = this.open();
    const started = this.startSweep();
    return this.afterSweep(runSync(sweepDirectory(directory, this.plan("sweep"))), started);
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
    const directory = this.path;
    if (directory === undefined || this.options.static) return;
    try {
      await rm(directory, { recursive: true, force: true });
    } catch (error) {
      throw new FileSystemStateError("remove", directory, error);
    }
    keepAtExit(directory);
  }

  private open(): string {
    if (this.closed) throw new StateClosedError("TempFileState");
    if (this.path !== undefined) return this.path;
    const { basePath } = this.options;
    const directory = this.options.static ? openStaticDirectory(basePath) : createPrivateDirectory(basePath);
    if (!this.options.static) removeAtExit(directory);
    this.path = directory;
    this.entriesAtSweep = this.options.static ? Infinity : 0;
    this.bytesAtSweep = this.options.static ? Infinity : 0;
    if (this.options.sweepIntervalMs > 0) {
      this.timer = setInterval(() => {
        this.sweep().catch((error: unknown) => this.report(error));
      }, this.options.sweepIntervalMs);
      this.timer.unref();
    }
    return directory;
  }

  private locate(key: string): EntryLocation {
    if (this.locator === undefined || this.closed) this.locator = new EntryLocator(this.open());
    return this.locator.locate(key);
  }

  private encode(value: unknown, ttl: number | null): Buffer[] {
    const { serializer } = this.options;
    return encodeEntry(value, validateTtl(ttl, "TempFileState.set"), serializer, this.serializerName, Date.now());
  }

  /** Counts a write; whether it calls for a sweep. */
  private countWrite(chunks: readonly Buffer[]): boolean {
    this.writesSinceSweep++;
    for (const chunk of chunks) this.bytesSinceSweep += chunk.length;
    const { sweepEvery, maxEntries, maxBytes } = this.options;
    return (
      (sweepEvery > 0 && this.writesSinceSweep >= sweepEvery) ||
      this.entriesAtSweep + this.writesSinceSweep > maxEntries ||
      this.bytesAtSweep + this.bytesSinceSweep > maxBytes
    );
  }

  private startSweep(): { writes: number; bytes: number } {
    return { writes: this.writesSinceSweep, bytes: this.bytesSinceSweep };
  }

  // Writes made while an async sweep ran may or may not have been seen by it; they stay counted.
  private afterSweep(report: SweepReport, started: { writes: number; bytes: number }): SweepReport {
    this.writesSinceSweep -= started.writes;
    this.bytesSinceSweep -= started.bytes;
    this.entriesAtSweep = report.entries;
    this.bytesAtSweep = report.bytes;
    return report;
  }

  private afterClear(report: SweepReport, problems: readonly Error[]): void {
    this.afterSweep(report, this.startSweep());
    const [first, ...rest] = problems;
    for (const problem of rest) this.report(problem);
    if (first) throw first;
  }

  private report(error: unknown): void {
    const problem =
      error instanceof StateError ? error : new StateError(`TempFileState: background sweep failed: ${String(error)}`, { cause: error });
    try {
      this.options.onError(problem);
    } catch {
      // onError must not throw; a throwing handler must not break the write that triggered the sweep.
    }
  }

  private plan(mode: SweepPlan["mode"], problems?: Error[]): SweepPlan {
    const { maxEntries, maxBytes } = this.options;
    return {
      mode,
      now: Date.now(),
      serializerName: this.serializerName,
      maxEntries,
      maxBytes,
      report: problems ? (error) => problems.push(error) : (error) => this.report(error),
    };
  }
}
