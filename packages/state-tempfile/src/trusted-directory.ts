import type { StampBook } from "./fences.js";
import { UnsafeDirectoryError, FileSystemStateError, isNotFound } from "./errors.js";
import { inspect, type PathStats, type Steps } from "./fs-steps.js";

/*
 * Entries are deserialized (v8 by default), so a file someone else could have written must never be
 * read as an entry. Three checks keep them out:
 *
 * - At first use, the `basePath` must belong to this user or root and, when writable by group or
 *   others, carry the sticky bit (as /tmp does): otherwise its other writers could rename the cache
 *   directory away and put their own (or a symbolic link to it) in its place. The cache directory
 *   must be a real directory, belong to this user and not be writable by group or others.
 * - Before an entry is trusted, and before each write and multi-file operation, the cache directory
 *   is inspected again (`lstat`): a different device and inode means it was replaced. A replacement
 *   that passes the checks above is this user's own (a directory removed and made again by one of
 *   its processes) and is adopted; anything else (a symbolic link, another owner, loose permissions)
 *   is refused.
 * - An entry file is opened with `O_NOFOLLOW` and must belong to this user: in the window between
 *   an inspection and a read, a directory swapped in and out again can only offer files another
 *   user made, which are refused.
 */

/** The effective uid checked against owners; `undefined` where the platform has none (Windows). */
export function currentUid(): number | undefined {
  return typeof process.geteuid === "function" ? process.geteuid() : undefined;
}

const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

function octal(mode: number): string {
  return (mode & 0o7777).toString(8);
}

/**
 * Why `basePath` may not hold a cache directory, or `undefined` when it may.
 * @param stats its `stat` (symbolic links followed: the directory it leads to is what counts)
 */
export function basePathProblem(path: string, stats: PathStats, uid: number | undefined): UnsafeDirectoryError | undefined {
  if (uid === undefined) return undefined;
  const details = { ownerUid: stats.uid, mode: stats.mode & 0o7777 };
  if (stats.uid !== uid && stats.uid !== 0) {
    return new UnsafeDirectoryError(
      path,
      `TempFileState: refusing basePath ${path}: it belongs to uid ${stats.uid}, neither this process's uid ${uid} nor root, ` +
        `so that user could replace the cache directory in it by their own. Use a basePath that only this user or root can write ` +
        `(a directory of your own with mode 700), or pass a secret (see the README's Security section) on a directory you trust.`,
      details,
    );
  }
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0 && (stats.mode & STICKY) === 0) {
    return new UnsafeDirectoryError(
      path,
      `TempFileState: refusing basePath ${path}: it is writable by group or others (mode ${octal(stats.mode)}) without the sticky bit, ` +
        `so they could replace the cache directory in it by their own. chmod it to 700 (or add the sticky bit, chmod +t, as /tmp has), ` +
        `or use a basePath that only this user or root can write.`,
      details,
    );
  }
  return undefined;
}

/**
 * Why `path` may not be used as the cache directory, or `undefined` when it may.
 * @param stats its `lstat` (a symbolic link is refused, not followed)
 */
export function cacheDirectoryProblem(path: string, stats: PathStats, uid: number | undefined): UnsafeDirectoryError | undefined {
  const details = { ownerUid: stats.uid, mode: stats.mode & 0o7777 };
  if (stats.kind !== "directory") {
    const what = stats.kind === "symlink" ? "a symbolic link" : "not a directory";
    return new UnsafeDirectoryError(
      path,
      `TempFileState: ${path} is ${what} (owned by uid ${stats.uid}); refusing to use it as the cache directory, since ` +
        `whoever made it chooses what would be read. Remove it; the state then makes a real directory of its own.`,
      details,
    );
  }
  if (uid !== undefined && stats.uid !== uid) {
    return new UnsafeDirectoryError(
      path,
      `TempFileState: ${path} belongs to uid ${stats.uid}, not to this process's uid ${uid}; refusing to deserialize files ` +
        `another user controls. Remove it (the state makes its own), and keep basePath a directory only this user or root can write.`,
      details,
    );
  }
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    return new UnsafeDirectoryError(
      path,
      `TempFileState: ${path} is writable by group or others (mode ${octal(stats.mode)}); refusing to deserialize files ` +
        `others may have written. Remove it or chmod it to 700.`,
      details,
    );
  }
  return undefined;
}

/**
 * The cache directory as verified, and the means to check that it still is the one: see the
 * comment at the top of this file.
 */
export class TrustedDirectory {
  private device: number;
  private inode: number;

  /**
   * @param path the cache directory
   * @param stats its `lstat`, already checked with {@link cacheDirectoryProblem}
   * @param stamps where its invalidations are stamped (files when other processes share it)
   */
  constructor(
    readonly path: string,
    stats: PathStats,
    private readonly uid: number | undefined,
    readonly stamps: StampBook,
  ) {
    this.device = stats.dev;
    this.inode = stats.ino;
  }

  /**
   * Checks what is at the directory's path now (its `lstat`): the verified directory, or one of this
   * user's that replaced it (then adopted).
   * @throws UnsafeDirectoryError when it is anything else
   */
  accept(stats: PathStats): void {
    const replaced = stats.dev !== this.device || stats.ino !== this.inode;
    const problem = cacheDirectoryProblem(this.path, stats, this.uid);
    if (problem !== undefined) {
      if (!replaced) throw problem;
      throw new UnsafeDirectoryError(
        this.path,
        `${problem.message} It is not the directory this state verified (device ${this.device}, inode ${this.inode}): ` +
          `someone renamed that one and put this in its place.`,
        { ownerUid: problem.ownerUid, mode: problem.mode },
      );
    }
    this.device = stats.dev;
    this.inode = stats.ino;
  }

  /**
   * Checks the owner of an entry file opened (without following a symbolic link) for reading.
   * @throws UnsafeDirectoryError when another user owns it
   */
  acceptEntryOwner(file: string, owner: number): void {
    if (this.uid === undefined || owner === this.uid) return;
    throw new UnsafeDirectoryError(
      file,
      `TempFileState: entry file ${file} belongs to uid ${owner}, not to this process's uid ${this.uid}; refusing to ` +
        `deserialize a file another user made. Check who can write ${this.path} and its basePath.`,
      { ownerUid: owner },
    );
  }

  /** The error for an entry file that turned out to be a symbolic link. */
  symbolicLinkEntry(file: string): UnsafeDirectoryError {
    return new UnsafeDirectoryError(
      file,
      `TempFileState: entry file ${file} is a symbolic link; refusing to follow it (the state never makes one). ` +
        `Check who can write ${this.path} and its basePath.`,
    );
  }
}

/**
 * Checks that the cache directory is still the one verified (or this user's replacement of it).
 * A directory that is gone is not an error: the next write makes it again, and the next check
 * verifies that one.
 * @throws UnsafeDirectoryError when it is not; FileSystemStateError when it cannot be inspected
 */
export function* verifyDirectory(trusted: TrustedDirectory): Steps<void> {
  let stats: PathStats;
  try {
    stats = yield* inspect(trusted.path);
  } catch (error) {
    if (isNotFound(error)) return;
    throw new FileSystemStateError("inspect", trusted.path, error);
  }
  trusted.accept(stats);
}

/** Runs `steps` once the cache directory is verified. */
export function* inTrustedDirectory<T>(trusted: TrustedDirectory, steps: Steps<T>): Steps<T> {
  yield* verifyDirectory(trusted);
  return yield* steps;
}
