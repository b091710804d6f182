import { basename, dirname, sep } from "node:path";
import { CorruptEntryError, InvalidOptionError, isExpired } from "@mimic/core";
import type { EntryEncoding } from "./entry.js";
import { FileSystemStateError, errnoCode, isNotFound } from "./errors.js";
import type { StampBook } from "./fences.js";
import { decodeTags } from "./format.js";
import { listIfPresent, createEmpty, linkTo, list, makeDirectory, remove, removeDirectory, renameTo, type Steps } from "./fs-steps.js";
import { readHead } from "./head.js";
import { isAbandoned } from "./liveness.js";
import { removePendingWrites } from "./removal.js";
import {
  MARKER_FILE,
  claimFileFor,
  entryFileOfMarker,
  isTempFileOf,
  parseClaimFile,
  shortId,
  tagDirectory,
  tagIdOf,
  type EntryLocation,
} from "./paths.js";

/*
 * The tag index. Each tagged entry carries its tags in its own header, and each (tag, entry) pair
 * has a marker: an empty file named after the entry, in the tag's directory. Markers are created
 * with O_EXCL and removed by name, so any number of processes can add and remove them at once
 * without a read-modify-write of a shared index file. The header, not the marker, is the truth:
 *
 * - A write adds its markers once its temporary file is complete and before renaming it into place
 *   (see `entry-steps.ts`). So whoever removes markers before it looks at entries (invalidation,
 *   clear) never leaves behind an entry that carries a tag without a marker: such an entry was
 *   written after the marker's removal, and its own write adds one; and an invalidation that takes a
 *   marker whose entry is not in place yet removes the write's temporary file, so it never is.
 * - A marker is removed only after it has been taken aside (renamed to a claim, atomically) and
 *   the entry's header checked: an entry rewritten since with the tag, or about to be (a write in
 *   progress), has a new marker (or gets the claimed one back); one rewritten without it, or
 *   expired, or gone, keeps nothing.
 * - Markers of entries that were overwritten without the tag, deleted, expired or evicted, or of
 *   writes that were dropped, are harmless (invalidation checks the header first) and are collected
 *   by the sweep.
 */

/** Checks and de-duplicates the `tags` a write was given. */
export function normalizeTags(tags: unknown, where: string): readonly string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
    throw new InvalidOptionError(`${where}: tags must be an array of strings, got ${JSON.stringify(tags) ?? String(tags)}`);
  }
  return tags.length < 2 ? (tags as string[]) : [...new Set(tags as string[])];
}

/**
 * Records that the entry at `location` carries `tags`. Call it after the entry is written.
 * @throws FileSystemStateError naming the marker that could not be created
 */
export function* addMarkers(root: string, location: EntryLocation, tags: readonly string[]): Steps<void> {
  for (const tag of tags) {
    const directory = tagDirectory(root, tag);
    const marker = directory + sep + location.marker;
    // A sweep or an invalidation removes a tag directory once it is empty: make it again.
    for (let attempt = 1; ; attempt++) {
      try {
        yield* createEmpty(marker);
        break;
      } catch (error) {
        if (!isNotFound(error) || attempt === 5) {
          throw new FileSystemStateError(`record tag ${JSON.stringify(tag)} in`, marker, error);
        }
      }
      try {
        yield* makeDirectory(directory);
      } catch (error) {
        throw new FileSystemStateError(`record tag ${JSON.stringify(tag)} in`, directory, error);
      }
    }
  }
}

/**
 * Whether the entry a marker names exists, has not expired and carries a tag `wanted` accepts.
 * A missing, expired or corrupt entry carries nothing.
 * @throws the file system's error when the entry cannot be read
 */
function* entryCarries(root: string, marker: string, codec: EntryEncoding, now: number, wanted: (tag: string) => boolean): Steps<boolean> {
  const file = entryFileOfMarker(root, marker);
  try {
    const head = yield* readHead(file, codec, true);
    if (isExpired(head.header.expiresAt, now)) return false;
    return decodeTags(head.bytes, head.header, file).some(wanted);
  } catch (error) {
    if (error instanceof CorruptEntryError || isNotFound(error)) return false;
    throw error;
  }
}

/** Whether a write of the entry file `file` is in progress (its temporary file exists). */
function* hasPendingWrite(file: string): Steps<boolean> {
  let names: string[];
  try {
    names = yield* list(dirname(file));
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const digest = basename(file);
  return names.some((name) => isTempFileOf(name, digest));
}

/** Puts a claimed marker back (unless a write has made it again meanwhile) and drops the claim. */
function* restore(claim: string, marker: string): Steps<void> {
  try {
    yield* linkTo(claim, marker);
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw error;
  }
  yield* remove(claim);
}

/** A marker or abandoned claim found in a tag directory, taken aside: its claim path and its marker. */
interface Claimed {
  readonly claim: string;
  readonly marker: string;
}

/**
 * Takes the marker or abandoned claim `name` of `directory` aside; `undefined` when it is not one,
 * is held by a live process, or someone else took it first.
 */
function* claim(directory: string, name: string): Steps<Claimed | undefined> {
  if (MARKER_FILE.test(name)) {
    const claimed = claimFileFor(directory, name);
    try {
      yield* renameTo(directory + sep + name, claimed);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new FileSystemStateError("take aside", directory + sep + name, error);
    }
    return { claim: claimed, marker: name };
  }
  const parsed = parseClaimFile(name);
  if (parsed === undefined) return undefined;
  const path = directory + sep + name;
  try {
    return (yield* isAbandoned(path, parsed.pid)) ? { claim: path, marker: parsed.marker } : undefined;
  } catch {
    return undefined; // gone meanwhile: its owner finished
  }
}

/** The marker a tag directory's `name` stands for: a marker's own name, or the marker a claim holds. */
function markerNamed(name: string): string | undefined {
  return MARKER_FILE.test(name) ? name : parseClaimFile(name)?.marker;
}

/** Removes the entry `marker` names, and its writes in progress, when it carries a tag `carries` accepts. */
function* removeMarkedEntry(
  root: string,
  marker: string,
  codec: EntryEncoding,
  now: number,
  carries: (tag: string) => boolean,
  problems: Error[],
): Steps<void> {
  const file = entryFileOfMarker(root, marker);
  yield* removePendingWrites(dirname(file), basename(file), (error) => problems.push(error));
  if (yield* entryCarries(root, marker, codec, now, carries)) yield* remove(file);
}

/**
 * Removes every entry that carries any of `tags`, in the cache directory `root`, after stamping the
 * invalidation (at `now`) so that fenced writes that began before it are not stored. Writes in
 * progress of a marked entry are removed too. Entries rewritten without the tags, expired or gone
 * are left alone; markers pointing to them are dropped.
 * @returns the problems met (files that could not be read or removed; their markers are kept so a
 *   later invalidation retries them), after trying every marker
 * @throws FileSystemStateError when the stamp cannot be written
 */
export function* invalidateTagsSteps(
  root: string,
  stamps: StampBook,
  tags: readonly string[],
  codec: EntryEncoding,
  now: number,
): Steps<Error[]> {
  const wanted = new Set(tags);
  const carries = (tag: string): boolean => wanted.has(tag);
  yield* stamps.stamp({ kind: "tags", tags: [...wanted] }, now);
  const problems: Error[] = [];
  for (const tag of wanted) {
    const directory = tagDirectory(root, tag);
    const names = yield* listIfPresent(directory, (error) => problems.push(error));
    if (names === undefined) continue;
    for (const name of names) {
      let claimed: Claimed | undefined;
      try {
        claimed = yield* claim(directory, name);
      } catch (error) {
        problems.push(error as Error);
        continue;
      }
      if (claimed === undefined) {
        // Taken aside by another process still at work on it (an invalidation, a sweep), or taken
        // first: its entry is removed here all the same, for this invalidation must not resolve
        // while the entry can still be read. The marker stays with whoever holds it.
        const marker = markerNamed(name);
        if (marker === undefined) continue;
        try {
          yield* removeMarkedEntry(root, marker, codec, now, carries, problems);
        } catch (error) {
          problems.push(new FileSystemStateError(`invalidate tag ${JSON.stringify(tag)}: cannot remove`, entryFileOfMarker(root, marker), error));
        }
        continue;
      }
      const file = entryFileOfMarker(root, claimed.marker);
      try {
        yield* removeMarkedEntry(root, claimed.marker, codec, now, carries, problems);
      } catch (error) {
        problems.push(new FileSystemStateError(`invalidate tag ${JSON.stringify(tag)}: cannot remove`, file, error));
        try {
          yield* restore(claimed.claim, directory + sep + claimed.marker);
        } catch {
          // The claim stays; once abandoned, the next invalidation or sweep takes it up again.
        }
        continue;
      }
      try {
        yield* remove(claimed.claim);
      } catch (error) {
        problems.push(new FileSystemStateError("remove", claimed.claim, error));
      }
    }
    try {
      yield* removeDirectory(directory);
    } catch (error) {
      problems.push(new FileSystemStateError("remove", directory, error));
    }
  }
  return problems;
}

/** What a sweep of tag directories is given and counts. */
export interface MarkerSweep {
  readonly codec: EntryEncoding;
  readonly now: number;
  readonly report: (error: Error) => void;
  /** Markers dropped so far. */
  dropped: number;
}

/**
 * Drops the markers of `directory` (a tag directory of `root`) whose entries no longer carry the
 * tag (overwritten without it, deleted, expired, evicted, corrupt), and the directory once empty.
 */
export function* sweepTagDirectory(root: string, directory: string, sweep: MarkerSweep): Steps<void> {
  const tagId = tagIdOf(basename(directory));
  const carries = (tag: string): boolean => shortId(tag) === tagId;
  const names = yield* listIfPresent(directory, sweep.report);
  if (names === undefined) return;
  let kept = 0;
  for (const name of names) {
    const isMarker = MARKER_FILE.test(name);
    if (isMarker) {
      // Most markers are current: check without taking them aside, which costs three more calls.
      try {
        if (yield* entryCarries(root, name, sweep.codec, sweep.now, carries)) {
          kept++;
          continue;
        }
      } catch (error) {
        sweep.report(new FileSystemStateError("read", entryFileOfMarker(root, name), error));
        kept++;
        continue;
      }
    }
    let claimed: Claimed | undefined;
    try {
      claimed = yield* claim(directory, name);
    } catch (error) {
      sweep.report(error as Error);
      kept++;
      continue;
    }
    if (claimed === undefined) {
      if (!isMarker) kept++;
      continue;
    }
    try {
      // Checked again now that it is aside: a write that added the tag meanwhile gets it back, and
      // so does a write in progress (looked for first: one renamed into place meanwhile is then
      // seen by the check of the entry).
      let holds: boolean;
      try {
        holds =
          (yield* hasPendingWrite(entryFileOfMarker(root, claimed.marker))) ||
          (yield* entryCarries(root, claimed.marker, sweep.codec, sweep.now, carries));
      } catch {
        holds = true;
      }
      if (holds) {
        yield* restore(claimed.claim, directory + sep + claimed.marker);
        kept++;
      } else {
        yield* remove(claimed.claim);
        sweep.dropped++;
      }
    } catch (error) {
      sweep.report(new FileSystemStateError("settle", claimed.claim, error));
      kept++;
    }
  }
  if (kept === 0) {
    try {
      yield* removeDirectory(directory);
    } catch (error) {
      sweep.report(new FileSystemStateError("remove", directory, error));
    }
  }
}
