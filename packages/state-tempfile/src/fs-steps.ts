import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { link, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { DIRECTORY_MODE, FILE_MODE } from "./directory.js";
import { errnoCode, FileSystemStateError, isNotFound } from "./errors.js";

/**
 * The multi-file operations (sweep, clear, deletePrefix, tags) are written once, as generators that
 * yield the file-system calls they need; {@link runSync} and {@link runAsync} carry those calls out
 * with `node:fs` or `node:fs/promises`. Sync and async memoized functions thus share one, tested,
 * implementation.
 */
export type FsRequest =
  | { readonly op: "list"; readonly path: string }
  | { readonly op: "read"; readonly path: string; readonly length: number }
  | { readonly op: "mtime"; readonly path: string }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "removeDirectory"; readonly path: string }
  | { readonly op: "makeDirectory"; readonly path: string }
  | { readonly op: "rename"; readonly from: string; readonly to: string }
  | { readonly op: "link"; readonly from: string; readonly to: string }
  | { readonly op: "removeTree"; readonly path: string }
  | { readonly op: "createEmpty"; readonly path: string };

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

// rm retries ENOTEMPTY: a writer that created its temporary file before the directory was moved to
// the trash may still rename it into place there.
const TREE_REMOVAL = { recursive: true, force: true, maxRetries: 3, retryDelay: 10 } as const;

function isGoneOrFull(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST";
}

// Not `recursive` first: a recursive mkdir reports ENOENT instead of EROFS on a read-only file
// system, which would hide the real problem.
function makeDirectorySync(path: string): void {
  try {
    mkdirSync(path, { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return;
    if (!isNotFound(error)) throw error;
    mkdirSync(path, { recursive: true, mode: DIRECTORY_MODE });
  }
}

async function makeDirectoryAsync(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return;
    if (!isNotFound(error)) throw error;
    await mkdir(path, { recursive: true, mode: DIRECTORY_MODE });
  }
}

function readSyncHead(path: string, length: number): FileHead {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.allocUnsafe(Math.min(size, length));
    const got = readSync(fd, bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, got), size };
  } finally {
    closeSync(fd);
  }
}

async function readAsyncHead(path: string, length: number): Promise<FileHead> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(Math.min(size, length));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, bytesRead), size };
  } finally {
    await handle.close();
  }
}

function performSync(request: FsRequest): unknown {
  switch (request.op) {
    case "list":
      return readdirSync(request.path);
    case "read":
      return readSyncHead(request.path, request.length);
    case "mtime":
      return statSync(request.path).mtimeMs;
    case "remove":
      try {
        unlinkSync(request.path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return undefined;
    case "removeDirectory":
      try {
        rmdirSync(request.path);
        return true;
      } catch (error) {
        if (isGoneOrFull(error)) return false;
        throw error;
      }
    case "makeDirectory":
      makeDirectorySync(request.path);
      return undefined;
    case "rename":
      renameSync(request.from, request.to);
      return undefined;
    case "link":
      linkSync(request.from, request.to);
      return undefined;
    case "removeTree":
      rmSync(request.path, TREE_REMOVAL);
      return undefined;
    case "createEmpty":
      try {
        closeSync(openSync(request.path, "wx", FILE_MODE));
        return true;
      } catch (error) {
        if (errnoCode(error) === "EEXIST") return false;
        throw error;
      }
  }
}

async function performAsync(request: FsRequest): Promise<unknown> {
  switch (request.op) {
    case "list":
      return readdir(request.path);
    case "read":
      return readAsyncHead(request.path, request.length);
    case "mtime":
      return (await stat(request.path)).mtimeMs;
    case "remove":
      try {
        await unlink(request.path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return undefined;
    case "removeDirectory":
      try {
        await rmdir(request.path);
        return true;
      } catch (error) {
        if (isGoneOrFull(error)) return false;
        throw error;
      }
    case "makeDirectory":
      await makeDirectoryAsync(request.path);
      return undefined;
    case "rename":
      await rename(request.from, request.to);
      return undefined;
    case "link":
      await link(request.from, request.to);
      return undefined;
    case "removeTree":
      await rm(request.path, TREE_REMOVAL);
      return undefined;
    case "createEmpty":
      try {
        await (await open(request.path, "wx", FILE_MODE)).close();
        return true;
      } catch (error) {
        if (errnoCode(error) === "EEXIST") return false;
        throw error;
      }
  }
}

/** Runs a walk with synchronous file-system calls. */
export function runSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = performSync(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/** Runs a walk with `node:fs/promises`. */
export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await performAsync(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}
