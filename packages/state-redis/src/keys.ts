import { shortenKey } from "@mimic/core";
import { createHash } from "node:crypto";

/**
 * Keys longer than this are stored as their namespace plus a SHA-256 of the rest, so Redis memory per key
 * stays bounded while short keys (the common case) stay readable and pay no hashing.
 */
export const MAX_KEY_LENGTH = 512;

/**
 * Marks a key that is not well-formed UTF-16 (it holds a lone surrogate). UTF-8 cannot carry such a key
 * (every lone surrogate would become U+FFFD and distinct keys would collide), so its argument part is
 * stored as UTF-16LE behind this byte, which never occurs in UTF-8 and so never in any other key.
 */
const ILL_FORMED_MARK = 0xff;

const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function illFormedKey(prefix: string, key: string): Buffer {
  // Keep a well-formed namespace readable (a per-function SCAN on it still finds the key).
  const end = key.indexOf("|") + 1;
  const namespace = end > 0 && isWellFormed(key.slice(0, end)) ? key.slice(0, end) : "";
  const rest = Buffer.from(key.slice(namespace.length), "utf16le");
  const body = rest.length <= MAX_KEY_LENGTH * 2 ? rest : Buffer.from(`#${createHash("sha256").update(rest).digest("hex")}`);
  return Buffer.concat([Buffer.from(prefix + namespace, "utf8"), Buffer.from([ILL_FORMED_MARK]), body]);
}

/**
 * The Redis key of a Mimic key under `prefix`: a string for every well-formed key (the hot path; short
 * keys are used as they are), bytes for a key holding a lone surrogate.
 */
export function toRedisKey(prefix: string, key: string): string | Buffer {
  if (!isWellFormed(key)) return illFormedKey(prefix, key);
  return prefix + (key.length <= MAX_KEY_LENGTH ? key : shortenKey(key, MAX_KEY_LENGTH));
}

/** Whether `text` can be stored in Redis as UTF-8 without loss (no lone surrogate). */
export function isWellFormedText(text: string): boolean {
  return isWellFormed(text);
}

/** `prefix` with Redis glob characters (`* ? [ ] \`) escaped, followed by `*`: a `SCAN MATCH` for its keys. */
export function matchPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
}
