import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  writevSync,
} from "node:fs";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { DIRECTORY_MODE, FILE_MODE } from "./directory.js";
import { FileSystemStateError, errnoCode, isNotFound } from "./errors.js";
import { tempFileFor, type EntryLocation } from "./paths.js";

// O_CREAT | O_EXCL | O_WRONLY: a temp file name is never shared, even with a writer that died.
const CREATE_NEW = "wx";

// A sweep removes empty shard and namespace directories, and clear/deletePrefix move whole
// namespace directories away, so the directory of a new temporary file may vanish between its
// creation and the file's: the writer makes it again, a bounded number of times.
const CREATE_ATTEMPTS = 5;

function createTempSync(temp: string, shard: string): number {
  for (let attempt = 1; ; attempt++) {
    try {
      return openSync(temp, CREATE_NEW, FILE_MODE);
    } catch (error) {
      if (!isNotFound(error) || attempt === CREATE_ATTEMPTS) throw new FileSystemStateError("create", temp, error);
    }
    try {
      makeDirectorySync(shard);
    } catch (error) {
      throw new FileSystemStateError("create", temp, error);
    }
  }
}

async function createTemp(temp: string, shard: string): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open(temp, CREATE_NEW, FILE_MODE);
    } catch (error) {
      if (!isNotFound(error) || attempt === CREATE_ATTEMPTS) throw new FileSystemStateError("create", temp, error);
    }
    try {
      await makeDirectory(shard);
    } catch (error) {
      throw new FileSystemStateError("create", temp, error);
    }
  }
}

/**
 * Writes `chunks` as the entry at `location`, atomically: into a temporary file of its own in the
 * same directory, then `rename` over the entry. A reader sees the old entry or the new one, never a
 * mix; a failed write leaves no temporary file and no partial entry behind.
 *
 * A write that loses a race with `clear`/`deletePrefix` (its directory was moved away and removed
 * before the rename) counts as done before the removal: the entry is gone, which is what the
 * removal promised, and nothing is reported.
 * @param durable also `fsync` the file before the rename and the directory after it.
 * @throws FileSystemStateError naming the path and the system's code (`ENOSPC`, `EROFS`…).
 */
export function writeEntrySync(location: EntryLocation, chunks: readonly Buffer[], durable: boolean): void {
  const temp = tempFileFor(location);
  const fd = createTempSync(temp, location.shard);
  try {
    writeAllSync(fd, chunks);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeQuietly(fd);
    unlinkQuietly(temp);
    throw new FileSystemStateError("write", temp, error);
  }
  try {
    closeSync(fd);
    renameSync(temp, location.file);
  } catch (error) {
    unlinkQuietly(temp);
    if (isNotFound(error)) return;
    throw new FileSystemStateError("store the entry", location.file, error);
  }
  if (durable) syncDirectorySync(location.shard);
}

/** Asynchronous {@link writeEntrySync}. */
export async function writeEntry(location: EntryLocation, chunks: readonly Buffer[], durable: boolean): Promise<void> {
  const temp = tempFileFor(location);
  const handle = await createTemp(temp, location.shard);
  try {
    await writeAll(handle, chunks);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new FileSystemStateError("write", temp, error);
  }
  try {
    await handle.close();
    await rename(temp, location.file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if (isNotFound(error)) return;
    throw new FileSystemStateError("store the entry", location.file, error);
  }
  if (durable) await syncDirectory(location.shard);
}

// Not `recursive` first: a recursive mkdir reports ENOENT instead of EROFS on a read-only file
// system. The namespace directory (and the cache directory itself, if someone removed it) is made
// on the way.
function makeDirectorySync(shard: string): void {
  try {
    mkdirSync(shard, { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return;
    if (!isNotFound(error)) throw error;
    mkdirSync(shard, { recursive: true, mode: DIRECTORY_MODE });
  }
}

async function makeDirectory(shard: string): Promise<void> {
  try {
    await mkdir(shard, { mode: DIRECTORY_MODE });
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return;
    if (!isNotFound(error)) throw error;
    await mkdir(shard, { recursive: true, mode: DIRECTORY_MODE });
  }
}

function totalLength(chunks: readonly Buffer[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
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

async function writeAll(handle: FileHandle, chunks: readonly Buffer[]): Promise<void> {
  const total = totalLength(chunks);
  let { bytesWritten: written } = await handle.writev(chunks as Buffer[]);
  if (written === total) return;
  const rest = Buffer.concat(chunks as Buffer[], total);
  while (written < total) written += (await handle.write(rest, written, total - written)).bytesWritten;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already failing; the original error is the one worth reporting.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // A leftover temp file is removed by the next sweep (its writer is known by pid).
  }
}

// The rename is durable only once the directory itself is flushed.
function syncDirectorySync(directory: string): void {
  let fd: number;
  try {
    fd = openSync(directory, "r");
  } catch (error) {
    if (isNotFound(error)) return; // removed by a concurrent clear/deletePrefix, with the entry
    throw new FileSystemStateError("open for fsync", directory, error);
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    throw new FileSystemStateError("fsync", directory, error);
  } finally {
    closeQuietly(fd);
  }
}

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(directory, "r");
  } catch (error) {
    if (isNotFound(error)) return; // removed by a concurrent clear/deletePrefix, with the entry
    throw new FileSystemStateError("open for fsync", directory, error);
  }
  try {
    await handle.sync();
  } catch (error) {
    throw new FileSystemStateError("fsync", directory, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
