import { shortenKey } from "@mimic/core";
import { createHash } from "node:crypto";

/**
 * Keys longer than this are stored as their namespace plus a SHA-256 of the rest, so Redis memory per key
 * stays bounded while short keys (the common case) stay readable and pay no hashing.
 */
export const MAX_KEY_LENGTH = 512;

/**
 * Marks a key that is not well-formed UTF-16 (it holds a lone surrogate). UTF-8 cannot carry such a key
 * (every lone surrogate would become U+FFFD and distinct keys would collide), so it is stored as
 * UTF-16LE behind this byte, which never occurs in UTF-8 and so never in any other key.
 */
const ILL_FORMED_MARK = 0xff;
/**
 * Starts the state's own keys (tag and fence records, leases) right after the prefix. Like 0xff it never occurs in
 * UTF-8, and an ill-formed key has 0xff there, so no entry key can ever equal one of them, whatever
 * the entry's key (`"tag:x"` included). `clear()` removes them with the entries (invalidation fences
 * excepted: they must outlive the writes they refuse).
 */
const INTERNAL_MARK = 0xfe;
const NAMESPACE_END = "|";

const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * An ill-formed key. Its namespace (up to the first `|`) comes first in both forms, so that
 * `deletePrefix` of a namespace finds its keys with one `SCAN MATCH`:
 * - well-formed namespace: `prefix + namespace (UTF-8) + 0xff + rest (UTF-16LE)`;
 * - ill-formed namespace (or none): `prefix + 0xff + namespace (UTF-16LE) + rest (UTF-16LE)`.
 * A rest over 1,024 bytes becomes `#` + its SHA-256 in hex: an odd length (65 bytes) that no UTF-16LE
 * text has, so a hashed rest never equals a literal one.
 */
function illFormedKey(prefix: string, key: string): Buffer {
  const end = key.indexOf(NAMESPACE_END) + 1;
  const namespace = key.slice(0, end);
  const rest = Buffer.from(key.slice(end), "utf16le");
  const body = rest.length <= MAX_KEY_LENGTH * 2 ? rest : Buffer.from(`#${createHash("sha256").update(rest).digest("hex")}`);
  if (isWellFormed(namespace)) {
    return Buffer.concat([Buffer.from(prefix + namespace, "utf8"), Buffer.from([ILL_FORMED_MARK]), body]);
  }
  return Buffer.concat([Buffer.from(prefix, "utf8"), Buffer.from([ILL_FORMED_MARK]), Buffer.from(namespace, "utf16le"), body]);
}

/**
 * The Redis key of a Mimic key under `prefix`: a string for every well-formed key (the hot path; short
 * keys are used as they are), bytes for a key holding a lone surrogate.
 */
export function toRedisKey(prefix: string, key: string): string | Buffer {
  if (!isWellFormed(key)) return illFormedKey(prefix, key);
  return prefix + (key.length <= MAX_KEY_LENGTH ? key : shortenKey(key, MAX_KEY_LENGTH));
}

/**
 * The Mimic key that a local layer may hold for the Redis key `redisKey` under `prefix` (its UTF-8
 * bytes), or `undefined` for a key outside the prefix, an internal key (record, lease) or an
 * ill-formed key: the layer never holds those. (A shortened key comes back shortened; no copy is held
 * under that either.)
 */
export function heldKeyOf(prefix: Buffer, redisKey: Buffer): string | undefined {
  if (redisKey.length < prefix.length || redisKey.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return undefined;
  // Both marks are bytes that never occur in UTF-8, so a plain key holds neither.
  if (redisKey.includes(INTERNAL_MARK) || redisKey.includes(ILL_FORMED_MARK)) return undefined;
  return redisKey.toString("utf8", prefix.length);
}

/** Whether `text` can be stored in Redis as UTF-8 without loss (no lone surrogate). */
export function isWellFormedText(text: string): boolean {
  return isWellFormed(text);
}

/** A tag as bytes, in tag-set keys and entry headers: UTF-8, or 0xff + UTF-16LE for an ill-formed tag. */
export function tagBytes(tag: string): Buffer {
  return isWellFormed(tag)
    ? Buffer.from(tag, "utf8")
    : Buffer.concat([Buffer.from([ILL_FORMED_MARK]), Buffer.from(tag, "utf16le")]);
}

function internalKey(prefix: string, kind: string, name: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(prefix, "utf8"), Buffer.from([INTERNAL_MARK]), Buffer.from(kind, "latin1"), Buffer.from(name)]);
}

/**
 * Starts every tag record after the prefix and 0xfe. The braces make all the records of a state one
 * Redis Cluster hash slot (the first `{…}` of the key is within this common start, whatever the
 * prefix), so one script reads or stamps several atomically, against one server clock.
 */
const TAG_RECORD = "{tagv}";

/**
 * The record of a tag (given as {@link tagBytes}): `prefix + 0xfe + "{tagv}" + tag`, a string holding
 * the Redis server time of the tag's last invalidation, in microseconds (see tag-records.ts).
 */
export function tagRecordKey(prefix: string, tag: Buffer): Buffer {
  return internalKey(prefix, TAG_RECORD, tag);
}

/**
 * The tag (its bytes as a latin1 string: one char per byte, lossless) whose record is the Redis key
 * `redisKey` under `prefix` (UTF-8 bytes), or `undefined` when it is not a tag record.
 */
export function tagIdOfRecordKey(prefix: Buffer, redisKey: Buffer): string | undefined {
  const head = prefix.length + 1 + TAG_RECORD.length;
  if (redisKey.length < head || redisKey[prefix.length] !== INTERNAL_MARK) return undefined;
  if (redisKey.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return undefined;
  if (redisKey.toString("latin1", prefix.length + 1, head) !== TAG_RECORD) return undefined;
  // A fence record, not a tag's.
  if (redisKey[head] === INTERNAL_MARK) return undefined;
  return redisKey.toString("latin1", head);
}

/**
 * What a fence record covers: one key, one namespace (what `fn.clear()` deletes), or the whole state.
 * Fence records sit among the tag records (same cluster slot) behind a 0xfe byte, which no tag's
 * bytes start with (UTF-8 never holds 0xfe; an ill-formed tag starts with 0xff).
 */
export type FenceScope = "key" | "namespace" | "state";

/** The record stamped when `name` (a key, a namespace, or "" for the state) is invalidated. */
export function fenceRecordKey(prefix: string, scope: FenceScope, name: string): Buffer {
  const bytes = scope === "key" ? Buffer.from(toRedisKey("", name)) : Buffer.from(name, "utf16le");
  return internalKey(prefix, TAG_RECORD, Buffer.concat([Buffer.from([INTERNAL_MARK]), Buffer.from(`${scope}:`, "latin1"), bytes]));
}

/**
 * The state's tag epoch: the server time of its latest tag invalidation (kept forever, and by
 * `clear()`). A tag record found missing is recreated with this stamp (see CHECK_RECORDS).
 */
export function tagEpochKey(prefix: string): Buffer {
  return internalKey(prefix, TAG_RECORD, Buffer.concat([Buffer.from([INTERNAL_MARK]), Buffer.from("tags", "latin1")]));
}

/** The start of every fence record of a state (`clear()` keeps them: they must outlive flights). */
export function fencePrefix(prefix: string): Buffer {
  return internalKey(prefix, TAG_RECORD, Buffer.from([INTERNAL_MARK]));
}

/** A tag's id in the local layer: its bytes ({@link tagBytes}) as a latin1 string. */
export function tagId(tag: Buffer): string {
  return tag.toString("latin1");
}

/** The lease of `key` (`lock`): `prefix + 0xfe + "lock:" + the key as its entry is stored (unprefixed)`. */
export function lockKey(prefix: string, key: string): Buffer {
  return internalKey(prefix, "lock:", toRedisKey("", key));
}

/** `bytes` with Redis glob characters (`* ? [ ] \`) escaped, followed by `*`. */
function globPrefix(bytes: Buffer): Buffer {
  const escaped: number[] = [];
  for (const byte of bytes) {
    // * ? [ ] \
    if (byte === 0x2a || byte === 0x3f || byte === 0x5b || byte === 0x5d || byte === 0x5c) escaped.push(0x5c);
    escaped.push(byte);
  }
  escaped.push(0x2a);
  return Buffer.from(escaped);
}

/** `prefix` with Redis glob characters escaped, followed by `*`: a `SCAN MATCH` for all its keys. */
export function matchPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
}

/**
 * The `SCAN MATCH` patterns that together find every entry whose Mimic key starts with `keyPrefix`
 * (a namespace ending at `|`, or the start of one: shortened keys keep only their namespace), and
 * nothing else, whatever form {@link toRedisKey} gave those keys.
 */
export function prefixPatterns(prefix: string, keyPrefix: string): Buffer[] {
  const utf8Prefix = Buffer.from(prefix, "utf8");
  const mark = Buffer.from([ILL_FORMED_MARK]);
  const end = keyPrefix.indexOf(NAMESPACE_END) + 1;
  if (end === 0) {
    // Inside a namespace: its keys may have a well-formed namespace (UTF-8 form), or not, or none
    // (UTF-16LE form).
    const patterns = [globPrefix(Buffer.concat([mark, Buffer.from(keyPrefix, "utf16le")]))];
    if (isWellFormed(keyPrefix)) patterns.unshift(globPrefix(Buffer.from(keyPrefix, "utf8")));
    return patterns.map((pattern) => Buffer.concat([escapedPrefix(utf8Prefix), pattern]));
  }
  const namespace = keyPrefix.slice(0, end);
  const rest = keyPrefix.slice(end);
  let form: Buffer;
  if (!isWellFormed(namespace)) form = Buffer.concat([mark, Buffer.from(keyPrefix, "utf16le")]);
  else if (isWellFormed(rest)) form = Buffer.from(keyPrefix, "utf8");
  else form = Buffer.concat([Buffer.from(namespace, "utf8"), mark, Buffer.from(rest, "utf16le")]);
  return [Buffer.concat([escapedPrefix(utf8Prefix), globPrefix(form)])];
}

function escapedPrefix(bytes: Buffer): Buffer {
  const globbed = globPrefix(bytes);
  return globbed.subarray(0, globbed.length - 1);
}
