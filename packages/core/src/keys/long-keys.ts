import { createHash } from "node:crypto";
import { NAMESPACE_END } from "./namespace.js";

/**
 * SHA-256 over the UTF-16LE code units of key text: lossless for every string, where UTF-8 would
 * turn each lone surrogate (which a string argument may hold) into U+FFFD and make keys collide.
 */
function hashKeyText(text: string): string {
  return createHash("sha256").update(text, "utf16le").digest("hex");
}

/**
 * For states that need keys of bounded length (Redis keys, file names): returns `key` unchanged when
 * it has at most `maxLength` characters, otherwise its namespace followed by `#` and the SHA-256 of
 * the argument part. The namespace is kept, so per-function prefixes still work.
 */
export function shortenKey(key: string, maxLength: number): string {
  if (key.length <= maxLength) return key;
  const end = key.indexOf(NAMESPACE_END) + 1;
  return `${key.slice(0, end)}#${hashKeyText(key.slice(end))}`;
}

/** The fixed-length SHA-256 hex digest of a whole key (e.g. a file name), over its UTF-16 code units. */
export function digestKey(key: string): string {
  return hashKeyText(key);
}
