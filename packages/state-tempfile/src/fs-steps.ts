import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { open, readdir, stat, unlink } from "node:fs/promises";
import { MAX_HEADER_SIZE } from "./format.js";
import { isNotFound } from "./errors.js";

/**
 * The directory walks (sweep, clear) are written once, as generators that yield the file-system
 * calls they need; {@link runSync} and {@link runAsync} carry those calls out with `node:fs` or
 * `node:fs/promises`. Sync and async memoized functions thus share one, tested, walk.
 */
export type FsRequest =
  | { readonly op: "list"; readonly path: string }
  | { readonly op: "head"; readonly path: string }
  | { readonly op: "mtime"; readonly path: string }
  | { readonly op: "remove"; readonly path: string };

/** The start of a file (at most {@link MAX_HEADER_SIZE} bytes) and its full size. */
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

/** Reads the start of a file, enough for any entry header. */
export function* head(path: string): Steps<FileHead> {
  return (yield { op: "head", path }) as FileHead;
}

/** A file's modification time in ms since the epoch. */
export function* mtime(path: string): Steps<number> {
  return (yield { op: "mtime", path }) as number;
}

/** Unlinks a file; one that is already gone is not an error. */
export function* remove(path: string): Steps<void> {
  yield { op: "remove", path };
}

function headSync(path: string): FileHead {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.allocUnsafe(Math.min(size, MAX_HEADER_SIZE));
    const read = readSync(fd, bytes, 0, bytes.length, 0);
    return { bytes: bytes.subarray(0, read), size };
  } finally {
    closeSync(fd);
  }
}

async function headAsync(path: string): Promise<FileHead> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(Math.min(size, MAX_HEADER_SIZE));
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
    case "head":
      return headSync(request.path);
    case "mtime":
      return statSync(request.path).mtimeMs;
    case "remove":
      try {
        unlinkSync(request.path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return undefined;
  }
}

async function performAsync(request: FsRequest): Promise<unknown> {
  switch (request.op) {
    case "list":
      return readdir(request.path);
    case "head":
      return headAsync(request.path);
    case "mtime":
      return (await stat(request.path)).mtimeMs;
    case "remove":
      try {
        await unlink(request.path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
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
