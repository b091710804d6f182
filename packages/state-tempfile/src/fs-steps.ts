import { FileSystemStateError, isNotFound } from "./errors.js";

/**
 * Every operation of the state (get, set, delete, sweep, clear, deletePrefix, tags) is written once,
 * as a generator that yields the file-system calls it needs; the drivers of `fs-drivers.ts`
 * (`runSync`, `runAsync`) carry those calls out with `node:fs` or `node:fs/promises`. Sync and async
 * memoized functions thus share one, tested, implementation of each operation.
 */
export type FsRequest =
  | { readonly op: "list"; readonly path: string }
  | { readonly op: "read"; readonly path: string; readonly length: number }
  | { readonly op: "readOwned"; readonly path: string }
  | { readonly op: "readOwnedIfPresent"; readonly path: string }
  | { readonly op: "inspect"; readonly path: string }
  | { readonly op: "mtime"; readonly path: string }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "removeDirectory"; readonly path: string }
  | { readonly op: "makeDirectory"; readonly path: string }
  | { readonly op: "rename"; readonly from: string; readonly to: string }
  | { readonly op: "link"; readonly from: string; readonly to: string }
  | { readonly op: "removeTree"; readonly path: string }
  | { readonly op: "createEmpty"; readonly path: string }
  | { readonly op: "createNew"; readonly path: string }
  | { readonly op: "append"; readonly path: string; readonly bytes: Buffer }
  | { readonly op: "writeAll"; readonly file: OpenFile; readonly chunks: readonly Buffer[] }
  | { readonly op: "flush"; readonly file: OpenFile }
  | { readonly op: "close"; readonly file: OpenFile }
  | { readonly op: "syncDirectory"; readonly path: string };

declare const openFileBrand: unique symbol;
/** A file opened for writing by a driver (a descriptor or a `FileHandle`); opaque to the steps. */
export interface OpenFile {
  readonly [openFileBrand]: true;
}

/** The start of a file and its full size. */
export interface FileHead {
  readonly bytes: Buffer;
  readonly size: number;
}

/** A walk: yields requests, receives their results, throws their errors where they were yielded. */
export type Steps<T> = Generator<FsRequest, T, unknown>;

/** Lists a directory's entries. */
export function* list(path: string): Steps<string[]> {
  return (yield { op: "list", path }) as string[];
}

/**
 * Lists a directory that another process may have removed: its names, or `undefined` when it is gone
 * (nothing to do there) or cannot be listed (then `report` is given a FileSystemStateError naming it).
 */
export function* listIfPresent(path: string, report: (error: Error) => void): Steps<string[] | undefined> {
  try {
    return yield* list(path);
  } catch (error) {
    if (!isNotFound(error)) report(new FileSystemStateError("list", path, error));
    return undefined;
  }
}

/**
 * Lists a directory that must be listable (the state's root).
 * @throws FileSystemStateError naming it
 */
export function* listOrThrow(path: string): Steps<string[]> {
  try {
    return yield* list(path);
  } catch (error) {
    throw new FileSystemStateError("list", path, error);
  }
}

/** Reads at most `length` bytes from the start of a file, and its size. */
export function* read(path: string, length: number): Steps<FileHead> {
  return (yield { op: "read", path, length }) as FileHead;
}

/** A whole file's bytes and its owner. */
export interface OwnedBytes {
  readonly bytes: Buffer;
  /** The uid owning the file that was read. */
  readonly owner: number;
}

/**
 * Reads a whole file, opened with `O_NOFOLLOW` (a symbolic link fails with `ELOOP`), and its owner
 * (of the file read, whatever is at the path afterwards).
 */
export function* readOwned(path: string): Steps<OwnedBytes> {
  return (yield { op: "readOwned", path }) as OwnedBytes;
}

/**
 * {@link readOwned}, or `undefined` when nothing is at `path`. For files that are usually missing
 * (invalidation stamps): the drivers look first (`lstat` without throwing), so a miss costs no
 * exception, which costs several times the system call.
 */
export function* readOwnedIfPresent(path: string): Steps<OwnedBytes | undefined> {
  return (yield { op: "readOwnedIfPresent", path }) as OwnedBytes | undefined;
}

/** What `lstat` says about a path (a symbolic link is not followed). */
export interface PathStats {
  readonly dev: number;
  readonly ino: number;
  readonly uid: number;
  /** Type and permission bits, as `stat`'s `mode`. */
  readonly mode: number;
  readonly kind: "directory" | "symlink" | "other";
}

/** The {@link PathStats} of a `node:fs` `Stats`. */
export function pathStatsOf(stats: {
  dev: number;
  ino: number;
  uid: number;
  mode: number;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): PathStats {
  const kind = stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "other";
  return { dev: stats.dev, ino: stats.ino, uid: stats.uid, mode: stats.mode, kind };
}

/** `lstat`s a path. */
export function* inspect(path: string): Steps<PathStats> {
  return (yield { op: "inspect", path }) as PathStats;
}

/** A file's modification time in ms since the epoch. */
export function* mtime(path: string): Steps<number> {
  return (yield { op: "mtime", path }) as number;
}

/** Unlinks a file; one that is already gone is not an error. */
export function* remove(path: string): Steps<void> {
  yield { op: "remove", path };
}

/** Removes a directory if it is empty; whether it did (a missing or non-empty one is not an error). */
export function* removeDirectory(path: string): Steps<boolean> {
  return (yield { op: "removeDirectory", path }) as boolean;
}

/** Makes a directory (mode 0700, with its parents); one that exists is not an error. */
export function* makeDirectory(path: string): Steps<void> {
  yield { op: "makeDirectory", path };
}

/** Renames a file or directory (atomically replacing a file at `to`). */
export function* renameTo(from: string, to: string): Steps<void> {
  yield { op: "rename", from, to };
}

/** Makes `to` another name of `from`; fails with `EEXIST` if `to` exists (atomically). */
export function* linkTo(from: string, to: string): Steps<void> {
  yield { op: "link", from, to };
}

/** Removes a directory and everything in it; a missing one is not an error. */
export function* removeTree(path: string): Steps<void> {
  yield { op: "removeTree", path };
}

/** Creates an empty file (mode 0600) unless one exists; whether it did. */
export function* createEmpty(path: string): Steps<boolean> {
  return (yield { op: "createEmpty", path }) as boolean;
}


/** Creates a new file (mode 0600) for writing; fails with `EEXIST` if it exists (`O_CREAT | O_EXCL`). */
export function* createNew(path: string): Steps<OpenFile> {
  return (yield { op: "createNew", path }) as OpenFile;
}

/** Writes `chunks` at the start of `file`, all of them (a short write is continued). */
export function* writeAll(file: OpenFile, chunks: readonly Buffer[]): Steps<void> {
  yield { op: "writeAll", file, chunks };
}

/** Flushes `file` to the disk (`fsync`). */
export function* flush(file: OpenFile): Steps<void> {
  yield { op: "flush", file };
}

/** Closes `file`. */
export function* close(file: OpenFile): Steps<void> {
  yield { op: "close", file };
}

/**
 * Flushes a directory to the disk, so that a rename into it is durable; a directory that is gone is
 * not an error (a concurrent clear/deletePrefix removed it, with the entry).
 */
export function* syncDirectory(path: string): Steps<void> {
  yield { op: "syncDirectory", path };
}

/**
 * Appends `bytes` to a file (made, mode 0600, if missing) in one `O_APPEND` write: appends of several
 * processes never overwrite each other.
 */
export function* append(path: string, bytes: Buffer): Steps<void> {
  yield { op: "append", path, bytes };
}
