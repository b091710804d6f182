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
 * Locates `key`'s entry under `directory`. Files are spread over 256 shard directories so that no
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
