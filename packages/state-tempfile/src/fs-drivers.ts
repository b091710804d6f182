import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  fsyncSync,
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
  writeFileSync,
  writeSync,
  writevSync,
} from "node:fs";
import { appendFile, link, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from "node:fs/promises";
import { DIRECTORY_MODE, FILE_MODE } from "./directory.js";
import { errnoCode, isNotFound } from "./errors.js";
import { pathStatsOf, type FileHead, type FsRequest, type OpenFile, type OwnedBytes, type Steps } from "./fs-steps.js";

/*
 * The two drivers of the steps of `fs-steps.ts`: one carries each request out with `node:fs`, the
 * other with `node:fs/promises`. Each request means the same in both; only the waiting differs.
 */

// rm retries ENOTEMPTY: a writer that created its temporary file before the directory was moved to
// the trash may still rename it into place there.
const TREE_REMOVAL = { recursive: true, force: true, maxRetries: 3, retryDelay: 10 } as const;

// O_CREAT | O_EXCL | O_WRONLY: a temp file name is never shared, even with a writer that died.
const CREATE_NEW = "wx";

// A symbolic link in place of an entry fails with ELOOP instead of being followed.
const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

function isGoneOrFull(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST";
}

function totalLength(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
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

/**
 * Whether nothing is at `path`, by a `lstat` that does not throw: for files that are usually missing
 * (invalidation stamps), where an `ENOENT` exception would cost several times the system call. Both
 * drivers look first (the async one too: a missing file's rejection costs as much).
 */
function isAbsent(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) === undefined;
}

/** `undefined` for a file that is gone (removed since it was looked for: as if never seen); else rethrows. */
function undefinedIfNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
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

// Entries are never changed in place (writes rename a new file over them), so the size read by fstat
// is the size of the file the descriptor holds; a short read (a file truncated by a crash) ends early.
function readOwnedSync(path: string): OwnedBytes {
  const fd = openSync(path, READ_NO_FOLLOW);
  try {
    const { size, uid } = fstatSync(fd);
    const bytes = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const read = readSync(fd, bytes, got, size - got, got);
      if (read === 0) break;
      got += read;
    }
    return { bytes: got === size ? bytes : bytes.subarray(0, got), owner: uid };
  } finally {
    closeSync(fd);
  }
}

async function readOwnedAsync(path: string): Promise<OwnedBytes> {
  const handle = await open(path, READ_NO_FOLLOW);
  try {
    const { size, uid } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(bytes, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { bytes: got === size ? bytes : bytes.subarray(0, got), owner: uid };
  } finally {
    await handle.close();
  }
}

// writev may write less than asked (a signal, a nearly full disk); the rest is written in a loop
// whose next call reports the real error (ENOSPC) if there is one.
function writeAllSync(fd: number, chunks: readonly Buffer[]): void {
  const total = totalLength(chunks);
  let written = writevSync(fd, chunks as Buffer[]);
  if (written === total) return;
  const rest = Buffer.concat(chunks as Buffer[], total);
  while (written < total) written += writeSync(fd, rest, written, total - written);
}

async function writeAllAsync(handle: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  const total = totalLength(chunks);
  let { bytesWritten: written } = await handle.writev(chunks as Buffer[]);
  if (written === total) return;
  const rest = Buffer.concat(chunks as Buffer[], total);
  while (written < total) written += (await handle.write(rest, written, total - written)).bytesWritten;
}

function syncDirectorySync(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // The fsync's outcome is what counts.
    }
  }
}

async function syncDirectoryAsync(path: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

const fdOf = (file: OpenFile): number => file as unknown as number;
const handleOf = (file: OpenFile): FileHandle => file as unknown as FileHandle;

function performSync(request: FsRequest): unknown {
  switch (request.op) {
    case "list":
      return readdirSync(request.path);
    case "read":
      return readSyncHead(request.path, request.length);
    case "readOwned":
      return readOwnedSync(request.path);
    case "readOwnedIfPresent":
      if (isAbsent(request.path)) return undefined;
      try {
        return readOwnedSync(request.path);
      } catch (error) {
        return undefinedIfNotFound(error);
      }
    case "inspect":
      return pathStatsOf(lstatSync(request.path));
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
        closeSync(openSync(request.path, CREATE_NEW, FILE_MODE));
        return true;
      } catch (error) {
        if (errnoCode(error) === "EEXIST") return false;
        throw error;
      }
    case "createNew":
      return openSync(request.path, CREATE_NEW, FILE_MODE);
    case "append":
      writeFileSync(request.path, request.bytes, { flag: "a", mode: FILE_MODE });
      return undefined;
    case "writeAll":
      writeAllSync(fdOf(request.file), request.chunks);
      return undefined;
    case "flush":
      fsyncSync(fdOf(request.file));
      return undefined;
    case "close":
      closeSync(fdOf(request.file));
      return undefined;
    case "syncDirectory":
      syncDirectorySync(request.path);
      return undefined;
  }
}

async function performAsync(request: FsRequest): Promise<unknown> {
  switch (request.op) {
    case "list":
      return readdir(request.path);
    case "read":
      return readAsyncHead(request.path, request.length);
    case "readOwned":
      return readOwnedAsync(request.path);
    case "readOwnedIfPresent":
      return isAbsent(request.path) ? undefined : readOwnedAsync(request.path).catch(undefinedIfNotFound);
    case "inspect":
      return pathStatsOf(await lstat(request.path));
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
        await (await open(request.path, CREATE_NEW, FILE_MODE)).close();
        return true;
      } catch (error) {
        if (errnoCode(error) === "EEXIST") return false;
        throw error;
      }
    case "createNew":
      return open(request.path, CREATE_NEW, FILE_MODE);
    case "append":
      await appendFile(request.path, request.bytes, { mode: FILE_MODE });
      return undefined;
    case "writeAll":
      await writeAllAsync(handleOf(request.file), request.chunks);
      return undefined;
    case "flush":
      await handleOf(request.file).sync();
      return undefined;
    case "close":
      await handleOf(request.file).close();
      return undefined;
    case "syncDirectory":
      await syncDirectoryAsync(request.path);
      return undefined;
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

/**
 * Runs a read's steps on the calling thread when `file` is at most `maxBytes` long (or missing: a
 * miss), where a small local read costs microseconds, else through the thread pool, so that a big
 * entry or a slow disk never holds the event loop for long.
 */
export async function runRead<T>(steps: Steps<T>, file: string, maxBytes: number): Promise<T> {
  const inline = maxBytes > 0 && (statSync(file, { throwIfNoEntry: false })?.size ?? 0) <= maxBytes;
  return inline ? runSync(steps) : runAsync(steps);
}

/**
 * Runs a write's steps (of an entry of `bytes` bytes) on the calling thread when it is at most
 * `maxBytes` (`0`: never), where a small local write and its checks cost tens of microseconds, else
 * through the thread pool, whose round trip per step adds up to about a millisecond.
 */
export async function runWrite<T>(steps: Steps<T>, bytes: number, maxBytes: number): Promise<T> {
  return bytes <= maxBytes ? runSync(steps) : runAsync(steps);
}
