import { shortenKey } from "@mimic/core";

/**
 * Keys longer than this are stored as their namespace plus a SHA-256 of the rest, so Redis memory per key
 * stays bounded while short keys (the common case) stay readable and pay no hashing.
 */
export const MAX_KEY_LENGTH = 512;

/** The Redis key of a Mimic key under `prefix`. */
export function toRedisKey(prefix: string, key: string): string {
  return prefix + (key.length <= MAX_KEY_LENGTH ? key : shortenKey(key, MAX_KEY_LENGTH));
}

/** `prefix` with Redis glob characters (`* ? [ ] \`) escaped, followed by `*`: a `SCAN MATCH` for its keys. */
export function matchPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
}
