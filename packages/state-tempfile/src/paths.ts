import { randomBytes } from "node:crypto";
import { sep } from "node:path";
import { digestKey } from "@mimic/core";

/** Names of entry files: the SHA-256 hex digest of the key. */
export const ENTRY_FILE = /^[0-9a-f]{64}$/;

/** Names of shard directories: the first two hex digits of the digest. */
export const SHARD_DIRECTORY = /^[0-9a-f]{2}$/;

/** Names of temporary files: `.<digest>.<pid>.<unique>.tmp`; the pid lets a sweep spot orphans. */
const TEMP_FILE = /^\.[0-9a-f]{64}\.(\d+)\.[0-9a-z]+\.tmp$/;

/** Where one key's entry lives. */
export interface EntryLocation {
  /** The shard directory holding the file. */
  readonly shard: string;
  /** The entry file's full path. */
  readonly file: string;
  /** The digest the file is named after. */
  readonly digest: string;
}

/**
 * Locates `key`'s entry under `directory`: the file is named by core's `digestKey` (SHA-256 over the
 * key's UTF-16 code units, so keys with lone surrogates do not collide). Files are spread over 256 shard directories so that no
 * directory holds more than a small share of the entries (listing and sweeping stay cheap).
 */
export function locateEntry(directory: string, key: string): EntryLocation {
  const digest = digestKey(key);
  const shard = directory + sep + digest.slice(0, 2);
  return { shard, file: shard + sep + digest, digest };
}

// Unique per process and per write without a random draw on every write.
const processSalt = randomBytes(4).toString("hex");
let counter = 0;

/** A fresh temporary file name next to `location`'s entry; rename makes it the entry. */
export function tempFileFor(location: EntryLocation): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${location.shard}${sep}.${location.digest}.${process.pid}.${processSalt}${counter.toString(36)}.tmp`;
}

/** The writer's pid if `name` is one of our temporary files, else `undefined`. */
export function tempFileWriter(name: string): number | undefined {
  const match = TEMP_FILE.exec(name);
  return match ? Number(match[1]) : undefined;
}

// Keys longer than this are rare and would make the cache's memory depend on the callers' data.
const MAX_CACHED_KEY_LENGTH = 512;
const MAX_CACHED_KEYS = 4096;

/**
 * {@link locateEntry} for one directory, remembering the locations of recently used keys: a hit
 * then costs a map lookup instead of a SHA-256 (about a tenth of a small sync hit). Bounded: the
 * map is emptied when full, which costs less than keeping an LRU order on every hit.
 */
export class EntryLocator {
  private readonly recent = new Map<string, EntryLocation>();

  constructor(private readonly directory: string) {}

  locate(key: string): EntryLocation {
    let location = this.recent.get(key);
    if (location === undefined) {
      location = locateEntry(this.directory, key);
      if (key.length <= MAX_CACHED_KEY_LENGTH) {
        if (this.recent.size >= MAX_CACHED_KEYS) this.recent.clear();
        this.recent.set(key, location);
      }
    }
    return location;
  }
}
