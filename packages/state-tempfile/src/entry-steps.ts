import type { CacheEntry } from "@mimic/core";
import { writeEntry } from "./atomic-write.js";
import { decodeEntry, type EntryCodec } from "./entry.js";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { readWhole, remove, type Steps } from "./fs-steps.js";
import type { EntryLocation } from "./paths.js";
import { addMarkers } from "./tag-markers.js";

/*
 * The operations on one key's entry, each written once and run by either driver of `fs-drivers.ts`.
 */

/**
 * Reads the entry at `location`: a hit, or `undefined` when it is missing or expired. An expired or
 * corrupt file is removed (another process may have removed or replaced it first; either way this
 * read is a miss).
 * @throws CorruptEntryError for a file that is not a complete entry of this codec and key;
 *   FileSystemStateError when it cannot be read
 */
export function* readEntry(location: EntryLocation, codec: EntryCodec): Steps<CacheEntry | undefined> {
  let bytes: Buffer;
  try {
    bytes = yield* readWhole(location.file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new FileSystemStateError("read", location.file, error);
  }
  const decoded = decodeEntry(bytes, location.file, location.keyBytes, codec, Date.now());
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
 * Stores the encoded entry `chunks` at `location` and records its `tags` in the tag index of `root`
 * (after the entry: see `tag-markers.ts`).
 * @throws FileSystemStateError when the file system fails; no partial entry is left, and no entry
 *   that carries a tag the index does not know
 */
export function* storeEntry(
  root: string,
  location: EntryLocation,
  chunks: readonly Buffer[],
  tags: readonly string[],
  durable: boolean,
): Steps<void> {
  yield* writeEntry(location, chunks, durable);
  if (tags.length === 0) return;
  try {
    yield* addMarkers(root, location, tags);
  } catch (error) {
    try {
      yield* remove(location.file);
    } catch {
      // Already gone; the marker failure is what to report.
    }
    throw error;
  }
}

/**
 * Removes the entry at `location`; a missing one is not an error.
 * @throws FileSystemStateError when it cannot be removed
 */
export function* deleteEntry(location: EntryLocation): Steps<void> {
  try {
    yield* remove(location.file);
  } catch (error) {
    throw new FileSystemStateError("remove", location.file, error);
  }
}
