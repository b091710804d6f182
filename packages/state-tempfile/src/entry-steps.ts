import type { CacheEntry } from "@mimic/core";
import { writeEntry } from "./atomic-write.js";
import { decodeEntry, type EntryEncoding } from "./entry.js";
import { FileSystemStateError, errnoCode, isNotFound } from "./errors.js";
import type { Fence } from "./fences.js";
import { readOwned, remove, type OwnedBytes, type Steps } from "./fs-steps.js";
import type { EntryLocation } from "./paths.js";
import { removePendingWrites } from "./removal.js";
import { addMarkers } from "./tag-markers.js";
import { verifyDirectory, type TrustedDirectory } from "./trusted-directory.js";

/*
 * The operations on one key's entry, each written once and run by either driver of `fs-drivers.ts`.
 */

/**
 * Reads the entry at `location` in the cache directory `trusted`: a hit, or `undefined` when it is
 * missing or expired. An expired or corrupt file is removed (another process may have removed or
 * replaced it first; either way this read is a miss). Nothing is decoded before the file's owner and
 * the directory are verified (see `trusted-directory.ts`).
 * @throws UnsafeDirectoryError for a file another user made, a symbolic link, or a directory that is
 *   no longer the one verified; CorruptEntryError for a file that is not a complete entry of this
 *   codec and key; FileSystemStateError when it cannot be read
 */
export function* readEntry(trusted: TrustedDirectory, location: EntryLocation, codec: EntryEncoding): Steps<CacheEntry | undefined> {
  let file: OwnedBytes;
  try {
    file = yield* readOwned(location.file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (errnoCode(error) === "ELOOP") throw trusted.symbolicLinkEntry(location.file);
    throw new FileSystemStateError("read", location.file, error);
  }
  yield* verifyDirectory(trusted);
  trusted.acceptEntryOwner(location.file, file.owner);
  const decoded = decodeEntry(file.bytes, location.file, location.keyBytes, codec, Date.now());
  if (decoded.kind === "hit") return decoded.entry;
  try {
    yield* remove(location.file);
  } catch {
    // Already failing or expired: the read is a miss either way.
  }
  if (decoded.kind === "corrupt") throw decoded.error;
  return undefined;
}

/**
 * Stores the encoded entry `chunks` at `location` in the cache directory `trusted`, once the directory
 * is verified. The entry is written to a temporary file, its `tags` are recorded in the tag index
 * (see `tag-markers.ts`), and, for a fenced write, the invalidation stamps are checked (see
 * `fences.ts`); only then is it renamed into place.
 * @returns whether it was stored: `false` when an invalidation fenced it off, or removed it meanwhile
 * @throws UnsafeDirectoryError when the directory is no longer the one verified; FileSystemStateError
 *   when the file system fails (no partial entry is left, and no entry that carries a tag the index
 *   does not know)
 */
export function* storeEntry(
  trusted: TrustedDirectory,
  location: EntryLocation,
  chunks: readonly Buffer[],
  tags: readonly string[],
  durable: boolean,
  fence: Fence | undefined,
): Steps<boolean> {
  yield* verifyDirectory(trusted);
  const root = trusted.path;
  if (tags.length === 0 && fence === undefined) return yield* writeEntry(location, chunks, durable);
  return yield* writeEntry(location, chunks, durable, function* beforePublish() {
    if (tags.length > 0) yield* addMarkers(root, location, tags);
    return fence === undefined || !(yield* trusted.stamps.isFenced(fence, Date.now()));
  });
}

/**
 * Removes the entry at `location`, and the writes of it in progress, after stamping the invalidation
 * (at `time`) so that fenced writes that began before it are not stored; a missing entry is not an
 * error.
 * @throws UnsafeDirectoryError when the directory is no longer the one verified;
 *   FileSystemStateError when the stamp cannot be written or a file cannot be removed
 */
export function* deleteEntry(trusted: TrustedDirectory, location: EntryLocation, time: number): Steps<void> {
  yield* verifyDirectory(trusted);
  yield* trusted.stamps.stamp({ kind: "key", location }, time);
  const problems: Error[] = [];
  yield* removePendingWrites(location.shard, location.digest, (error) => problems.push(error));
  try {
    yield* remove(location.file);
  } catch (error) {
    throw new FileSystemStateError("remove", location.file, error);
  }
  if (problems[0] !== undefined) throw problems[0];
}
