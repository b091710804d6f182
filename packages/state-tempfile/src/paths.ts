import { randomBytes } from "node:crypto";
import { sep } from "node:path";
import { NAMESPACE_END, digestKey } from "@mimic/core";

/**
 * Layout of a cache directory (version {@link LAYOUT_VERSION}):
 *
 * ```
 * <root>/n2-<namespace id>/<xx>/<key digest>     one entry per key, grouped by the key's namespace
 * <root>/n2-<namespace id>/<xx>/.<key digest>.<pid>.<unique>.tmp   a write in progress
 * <root>/t2-<tag id>/<namespace id>-<key digest>  "this entry was written with this tag" (empty file)
 * <root>/l2/<key digest>                          a lease (`lock`), holding its token and expiry
 * <root>/f2/<window>/<scope>                       invalidation stamps that fence writes (see fences.ts)
 * <root>/.trash-<pid>-<unique>                     a directory being removed (clear, deletePrefix)
 * ```
 *
 * A namespace is the part of a key up to and including its first `|` (`docs/KEY_FORMAT.md`), or
 * the empty string for a key without one; its id is the first 32 hex digits of its SHA-256, so one
 * memoized function's entries live in one directory that `deletePrefix` removes at once. `<xx>` is
 * the first two hex digits of the key digest, so no directory grows large. The version in the
 * directory names keeps the layouts of different releases apart: a process running another release
 * never reads these files (nor these processes its files).
 */
export const LAYOUT_VERSION = 2;

/** Namespace directories. */
export const NAMESPACE_DIRECTORY = /^n2-[0-9a-f]{32}$/;
/** Tag directories. */
export const TAG_DIRECTORY = /^t2-[0-9a-f]{32}$/;
/** The directory of lease files. */
export const LOCK_DIRECTORY = "l2";
/** The directory of invalidation stamps. */
export const FENCE_DIRECTORY = "f2";
/** Shard directories inside a namespace directory. */
export const SHARD_DIRECTORY = /^[0-9a-f]{2}$/;
/** Shard directories of layout 1, directly under the root: an older release's, removed by sweeps. */
export const LEGACY_SHARD_DIRECTORY = SHARD_DIRECTORY;
/** Names of entry files: the SHA-256 hex digest of the key. */
export const ENTRY_FILE = /^[0-9a-f]{64}$/;
/** Names of lease files (as entry files) and of the guard that serializes their takeover. */
export const LOCK_GUARD_FILE = /^[0-9a-f]{64}\.guard$/;
/** Names of tag markers: the entry's namespace id and key digest. */
export const MARKER_FILE = /^[0-9a-f]{32}-[0-9a-f]{64}$/;

/** Temporary files: `.<digest>.<pid>.<unique>.tmp`; the pid lets a sweep spot orphans. */
const TEMP_FILE = /^\.[0-9a-f]{64}\.(\d+)\.[0-9a-z]+\.tmp$/;
/** A marker taken aside while its entry is checked: `.<marker>.<pid>.<unique>.claim`. */
const CLAIM_FILE = /^\.([0-9a-f]{32}-[0-9a-f]{64})\.(\d+)\.[0-9a-z]+\.claim$/;
/** A directory being removed: `.trash-<pid>-<unique>`. */
const TRASH_DIRECTORY = /^\.trash-(\d+)-[0-9a-z]+$/;

const ID_LENGTH = 32;

/** The namespace of `key`: up to and including its first `|`, or `""` when it has none. */
export function namespaceOf(key: string): string {
  const end = key.indexOf(NAMESPACE_END);
  return end === -1 ? "" : key.slice(0, end + 1);
}

/** The 32-hex-digit id a namespace or tag is filed under (core's digest, so lone surrogates stay apart). */
export function shortId(text: string): string {
  return digestKey(text).slice(0, ID_LENGTH);
}

/** The directory of a namespace's entries. */
export function namespaceDirectory(root: string, namespace: string): string {
  return `${root}${sep}n2-${shortId(namespace)}`;
}

/** The directory of a tag's markers. */
export function tagDirectory(root: string, tag: string): string {
  return `${root}${sep}t2-${shortId(tag)}`;
}

/** The id part of a tag directory's name. */
export function tagIdOf(directoryName: string): string {
  return directoryName.slice(3);
}

/** Where one key's entry lives. */
export interface EntryLocation {
  /** The namespace's directory. */
  readonly namespaceDirectory: string;
  /** The shard directory holding the file. */
  readonly shard: string;
  /** The entry file's full path. */
  readonly file: string;
  /** The key's digest, which the file is named after. */
  readonly digest: string;
  /** The name of this entry's marker in a tag directory. */
  readonly marker: string;
  /** The key as stored in the entry (UTF-16LE: exact for every string, lone surrogates included). */
  readonly keyBytes: Buffer;
}

/**
 * Locates `key`'s entry under `root`. The file is named by core's `digestKey` (SHA-256 over the
 * key's UTF-16 code units, so keys with lone surrogates do not collide), in its namespace's
 * directory, in one of 256 shards.
 * @param namespaceId the namespace's {@link shortId}, when the caller already knows it
 */
export function locateEntry(root: string, key: string, namespaceId = shortId(namespaceOf(key))): EntryLocation {
  const digest = digestKey(key);
  const namespaceDirectory = `${root}${sep}n2-${namespaceId}`;
  const shard = `${namespaceDirectory}${sep}${digest.slice(0, 2)}`;
  return {
    namespaceDirectory,
    shard,
    file: shard + sep + digest,
    digest,
    marker: `${namespaceId}-${digest}`,
    keyBytes: Buffer.from(key, "utf16le"),
  };
}

/** The entry file a tag marker names. */
export function entryFileOfMarker(root: string, marker: string): string {
  const namespaceId = marker.slice(0, ID_LENGTH);
  const digest = marker.slice(ID_LENGTH + 1);
  return `${root}${sep}n2-${namespaceId}${sep}${digest.slice(0, 2)}${sep}${digest}`;
}

// Unique per process and per call without a random draw each time.
const processSalt = randomBytes(4).toString("hex");
let counter = 0;

function unique(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${processSalt}${counter.toString(36)}`;
}

/** A fresh temporary file name in `directory` for a file named `digest`; rename (or link) makes it that file. */
export function tempFileIn(directory: string, digest: string): string {
  return `${directory}${sep}.${digest}.${process.pid}.${unique()}.tmp`;
}

/** A fresh temporary file name next to `location`'s entry. */
export function tempFileFor(location: EntryLocation): string {
  return tempFileIn(location.shard, location.digest);
}

/** The writer's pid if `name` is one of our temporary files, else `undefined`. */
export function tempFileWriter(name: string): number | undefined {
  const match = TEMP_FILE.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Whether `name` is a temporary file of a write of the entry named `digest` (in its shard). */
export function isTempFileOf(name: string, digest: string): boolean {
  return name.startsWith(`.${digest}.`) && TEMP_FILE.test(name);
}

/** A fresh name, in the marker's tag directory, to take `marker` aside under. */
export function claimFileFor(tagDirectory: string, marker: string): string {
  return `${tagDirectory}${sep}.${marker}.${process.pid}.${unique()}.claim`;
}

/** The marker and the claimer's pid if `name` is a claim file, else `undefined`. */
export function parseClaimFile(name: string): { marker: string; pid: number } | undefined {
  const match = CLAIM_FILE.exec(name);
  return match ? { marker: match[1] as string, pid: Number(match[2]) } : undefined;
}

/** A fresh name under `root` to move a directory to before removing it. */
export function trashDirectoryIn(root: string): string {
  return `${root}${sep}.trash-${process.pid}-${unique()}`;
}

/** The remover's pid if `name` is a trash directory, else `undefined`. */
export function trashOwner(name: string): number | undefined {
  const match = TRASH_DIRECTORY.exec(name);
  return match ? Number(match[1]) : undefined;
}

// Keys longer than this are rare and would make the cache's memory depend on the callers' data.
const MAX_CACHED_KEY_LENGTH = 512;
const MAX_CACHED_KEYS = 4096;

/**
 * {@link locateEntry} for one directory, remembering the locations of recently used keys (a hit then
 * costs a map lookup instead of two SHA-256) and the ids of recent namespaces. Bounded: a map is
 * emptied when full, which costs less than keeping an LRU order on every hit.
 */
export class EntryLocator {
  private readonly recent = new Map<string, EntryLocation>();
  private readonly namespaces = new Map<string, string>();

  constructor(private readonly root: string) {}

  locate(key: string): EntryLocation {
    let location = this.recent.get(key);
    if (location === undefined) {
      location = locateEntry(this.root, key, this.namespaceId(namespaceOf(key)));
      if (key.length <= MAX_CACHED_KEY_LENGTH) {
        if (this.recent.size >= MAX_CACHED_KEYS) this.recent.clear();
        this.recent.set(key, location);
      }
    }
    return location;
  }

  private namespaceId(namespace: string): string {
    let id = this.namespaces.get(namespace);
    if (id === undefined) {
      id = shortId(namespace);
      if (namespace.length <= MAX_CACHED_KEY_LENGTH) {
        if (this.namespaces.size >= MAX_CACHED_KEYS) this.namespaces.clear();
        this.namespaces.set(namespace, id);
      }
    }
    return id;
  }
}
