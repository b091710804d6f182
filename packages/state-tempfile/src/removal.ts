import { sep } from "node:path";
import { CorruptEntryError, NAMESPACE_END } from "@mimic/core";
import type { EntryEncoding } from "./entry.js";
import { FileSystemStateError, isNotFound } from "./errors.js";
import type { StampBook } from "./fences.js";
import { listOrThrow, listIfPresent, remove, removeDirectory, removeTree, renameTo, type Steps } from "./fs-steps.js";
import { keyOf, readHead } from "./head.js";
import { isAbandoned } from "./liveness.js";
import {
  ENTRY_FILE,
  LEGACY_SHARD_DIRECTORY,
  NAMESPACE_DIRECTORY,
  SHARD_DIRECTORY,
  TAG_DIRECTORY,
  isTempFileOf,
  namespaceDirectory,
  shortId,
  tempFileWriter,
  trashDirectoryIn,
} from "./paths.js";

/**
 * Removes `directory` (a namespace or tag directory of `root`) as one step for every reader: it is
 * renamed into a trash directory first, so a reader finds either all of it or none of it, and a
 * writer makes a fresh directory. Removing the trash is then background work: a failure there is
 * reported to `report`, and a later sweep removes what is left.
 * @returns whether there was a directory to remove
 * @throws FileSystemStateError when it cannot be moved aside
 */
export function* discard(root: string, directory: string, report: (error: Error) => void): Steps<boolean> {
  const trash = trashDirectoryIn(root);
  try {
    yield* renameTo(directory, trash);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw new FileSystemStateError("move aside", directory, error);
  }
  try {
    yield* removeTree(trash);
  } catch (error) {
    report(new FileSystemStateError("remove", trash, error));
  }
  return true;
}

/**
 * Removes the temporary files of writes in progress of the entry named `digest` in `shard`, so that
 * none of them is put in place after a removal (its rename fails; the write counts as done before
 * the removal). Call it after the invalidation's stamp and before removing the entry itself.
 * @returns whether there were any
 */
export function* removePendingWrites(shard: string, digest: string, report: (error: Error) => void): Steps<boolean> {
  const names = yield* listIfPresent(shard, report);
  let found = false;
  for (const name of names ?? []) {
    if (!isTempFileOf(name, digest)) continue;
    found = true;
    try {
      yield* remove(shard + sep + name);
    } catch (error) {
      report(new FileSystemStateError("remove", shard + sep + name, error));
    }
  }
  return found;
}

/**
 * Removes the files a layout-1 shard directory (an older release's) holds, and the directory once
 * empty. Temporary files of live writers of that release are left to finish.
 * @returns how many files were removed
 */
export function* removeLegacyShard(directory: string, report: (error: Error) => void): Steps<number> {
  const names = yield* listIfPresent(directory, report);
  if (names === undefined) return 0;
  let removed = 0;
  for (const name of names) {
    const path = directory + sep + name;
    try {
      const writer = tempFileWriter(name);
      if (ENTRY_FILE.test(name) || (writer !== undefined && (yield* isAbandoned(path, writer)))) {
        yield* remove(path);
        removed++;
      }
    } catch (error) {
      if (!isNotFound(error)) report(new FileSystemStateError("remove", path, error));
    }
  }
  yield* removeDirectory(directory);
  return removed;
}

/**
 * Removes every entry and tag marker under `root` (leases and files that are not Mimic's stay), after
 * stamping the invalidation (at `time`) so that fenced writes that began before it are not stored.
 * @returns the problems met, after trying everything
 * @throws FileSystemStateError when the stamp cannot be written or `root` cannot be listed
 */
export function* clearSteps(root: string, stamps: StampBook, time: number, report: (error: Error) => void): Steps<Error[]> {
  yield* stamps.stamp({ kind: "all" }, time);
  const names = yield* listOrThrow(root);
  const problems: Error[] = [];
  // Tag directories first: a tagged write adds its markers after its entry, so an entry that
  // survives the clear (written after its namespace was moved away) keeps a marker too.
  const ordered = [...names.filter((name) => TAG_DIRECTORY.test(name)), ...names.filter((name) => NAMESPACE_DIRECTORY.test(name))];
  for (const name of ordered) {
    try {
      yield* discard(root, root + sep + name, report);
    } catch (error) {
      problems.push(error as Error);
    }
  }
  for (const name of names) {
    if (LEGACY_SHARD_DIRECTORY.test(name)) yield* removeLegacyShard(root + sep + name, (error) => problems.push(error));
  }
  return problems;
}

/**
 * Removes every entry whose key starts with `prefix`, after stamping the invalidation (at `time`) so
 * that fenced writes that began before it are not stored. A whole namespace (`…|`, what `fn.clear()`
 * passes) is one directory, removed at once; any other prefix is found by reading the keys stored
 * in the entries (and in the complete files of writes in progress, which are removed too): of one
 * namespace's directory when the prefix holds a `|`, else of all of them.
 * @returns the problems met (files that could not be read or removed), after trying all
 * @throws FileSystemStateError when the stamp cannot be written, a directory cannot be moved aside or
 *   `root` cannot be listed
 */
export function* deletePrefixSteps(
  root: string,
  stamps: StampBook,
  prefix: string,
  time: number,
  codec: EntryEncoding,
  report: (error: Error) => void,
): Steps<Error[]> {
  const end = prefix.indexOf(NAMESPACE_END);
  if (end !== -1 && end === prefix.length - 1) {
    yield* stamps.stamp({ kind: "namespace", namespaceId: shortId(prefix) }, time);
    yield* discard(root, namespaceDirectory(root, prefix), report);
    return [];
  }
  yield* stamps.stamp(prefix === "" ? { kind: "all" } : { kind: "prefix", prefix }, time);
  let directories: string[];
  if (end === -1) {
    const names = yield* listOrThrow(root);
    directories = names.filter((name) => NAMESPACE_DIRECTORY.test(name)).map((name) => root + sep + name);
    if (prefix === "") {
      for (const directory of directories) yield* discard(root, directory, report);
      return [];
    }
  } else {
    directories = [namespaceDirectory(root, prefix.slice(0, end + 1))];
  }
  const problems: Error[] = [];
  for (const directory of directories) yield* deleteMatching(directory, prefix, codec, problems);
  return problems;
}

function* deleteMatching(directory: string, prefix: string, codec: EntryEncoding, problems: Error[]): Steps<void> {
  const report = (error: Error): void => void problems.push(error);
  const shards = yield* listIfPresent(directory, report);
  if (shards === undefined) return;
  for (const shard of shards) {
    if (!SHARD_DIRECTORY.test(shard)) continue;
    const path = directory + sep + shard;
    // Writes in progress first, then the entries listed again: a write renamed into place meanwhile
    // is then among the entries.
    const pending = yield* listIfPresent(path, report);
    if (pending === undefined) continue;
    for (const name of pending) {
      if (tempFileWriter(name) !== undefined) yield* removeIfMatching(path + sep + name, prefix, codec, problems);
    }
    const names = yield* listIfPresent(path, report);
    for (const name of names ?? []) {
      if (ENTRY_FILE.test(name)) yield* removeIfMatching(path + sep + name, prefix, codec, problems);
    }
  }
}

function* removeIfMatching(path: string, prefix: string, codec: EntryEncoding, problems: Error[]): Steps<void> {
  try {
    // A corrupt file holds no key of this state (reads remove it), nor does a write's temporary file
    // that is not complete yet (that write checks the stamps once it is); a missing one is gone.
    if (keyOf(yield* readHead(path, codec, true)).startsWith(prefix)) yield* remove(path);
  } catch (error) {
    if (!(error instanceof CorruptEntryError) && !isNotFound(error)) {
      problems.push(new FileSystemStateError("delete by prefix", path, error));
    }
  }
}
