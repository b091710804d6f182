import { FileSystemStateError, isNotFound } from "./errors.js";
import {
  close,
  createNew,
  flush,
  makeDirectory,
  remove,
  renameTo,
  syncDirectory,
  writeAll,
  type OpenFile,
  type Steps,
} from "./fs-steps.js";
import { tempFileFor, type EntryLocation } from "./paths.js";

// A sweep removes empty shard and namespace directories, and clear/deletePrefix move whole
// namespace directories away, so the directory of a new temporary file may vanish between its
// creation and the file's: the writer makes it again (the namespace directory and the cache
// directory itself on the way), a bounded number of times.
const CREATE_ATTEMPTS = 5;

function* createTemp(temp: string, shard: string): Steps<OpenFile> {
  for (let attempt = 1; ; attempt++) {
    try {
      return yield* createNew(temp);
    } catch (error) {
      if (!isNotFound(error) || attempt === CREATE_ATTEMPTS) throw new FileSystemStateError("create", temp, error);
    }
    try {
      yield* makeDirectory(shard);
    } catch (error) {
      // ENOENT: the namespace directory was moved away while its shard was being made; try again.
      if (!isNotFound(error) || attempt === CREATE_ATTEMPTS) throw new FileSystemStateError("create", temp, error);
    }
  }
}

/** Runs `steps`, ignoring their failure: cleanup after an error that is the one worth reporting. */
function* quietly(steps: Steps<void>): Steps<void> {
  try {
    yield* steps;
  } catch {
    // A leftover temp file is removed by the next sweep (its writer is known by pid).
  }
}

/**
 * Writes `chunks` as the entry at `location`, atomically: into a temporary file of its own in the
 * same directory, then `rename` over the entry. A reader sees the old entry or the new one, never a
 * mix; a failed write leaves no temporary file and no partial entry behind.
 *
 * A write that loses a race with a removal (`delete`, `clear`, `deletePrefix`, `invalidateTags`
 * removed its temporary file, or moved its directory away, before the rename) counts as done before
 * the removal: the entry is gone, which is what the removal promised, and nothing is reported.
 * @param durable also `fsync` the file before the rename and the directory after it.
 * @param beforePublish run once the temporary file is complete, before the rename; `false` drops the
 *   write (the temporary file is removed). Its error drops the write too, and is thrown.
 * @returns whether the entry was put in place (not dropped, and not lost to a removal)
 * @throws FileSystemStateError naming the path and the system's code (`ENOSPC`, `EROFS`…).
 */
export function* writeEntry(
  location: EntryLocation,
  chunks: readonly Buffer[],
  durable: boolean,
  beforePublish?: () => Steps<boolean>,
): Steps<boolean> {
  const temp = tempFileFor(location);
  const file = yield* createTemp(temp, location.shard);
  try {
    yield* writeAll(file, chunks);
    if (durable) yield* flush(file);
  } catch (error) {
    yield* quietly(close(file));
    yield* quietly(remove(temp));
    throw new FileSystemStateError("write", temp, error);
  }
  try {
    yield* close(file);
  } catch (error) {
    yield* quietly(remove(temp));
    throw new FileSystemStateError("store the entry", location.file, error);
  }
  if (beforePublish !== undefined) {
    let publish: boolean;
    try {
      publish = yield* beforePublish();
    } catch (error) {
      yield* quietly(remove(temp));
      throw error;
    }
    if (!publish) {
      yield* quietly(remove(temp));
      return false;
    }
  }
  try {
    yield* renameTo(temp, location.file);
  } catch (error) {
    yield* quietly(remove(temp));
    if (isNotFound(error)) return false;
    throw new FileSystemStateError("store the entry", location.file, error);
  }
  if (!durable) return true;
  // The rename is durable only once the directory itself is flushed.
  try {
    yield* syncDirectory(location.shard);
  } catch (error) {
    throw new FileSystemStateError("fsync", location.shard, error);
  }
  return true;
}
