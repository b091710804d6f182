import { createHmac, timingSafeEqual } from "node:crypto";
import { CorruptEntryError, StateError, expiresAt, isExpired, type CacheEntry, type Serializer } from "@mimic/core";
import { MAC_SIZE, decodeHeader, encodeHeader, encodeTags, type EntryHeader } from "./format.js";

/** How entries are turned into bytes and back: the serializer, and the secret that signs them, if any. */
export interface EntryEncoding {
  readonly serializer: Serializer;
  /** The serializer's name as stored in headers. */
  readonly serializerName: Buffer;
  /** The HMAC-SHA256 key; `undefined`: entries are neither signed nor expected to be. */
  readonly secret: Buffer | undefined;
}

/** What the bytes of an entry file turned out to hold. */
export type DecodedEntry =
  | { readonly kind: "hit"; readonly entry: CacheEntry }
  | { readonly kind: "expired" }
  | { readonly kind: "corrupt"; readonly error: CorruptEntryError };

function mac(secret: Buffer, chunks: readonly Uint8Array[]): Buffer {
  const hmac = createHmac("sha256", secret);
  for (const chunk of chunks) hmac.update(chunk);
  return hmac.digest();
}

/** Checks a header against the codec; the header of a file of `fileSize` bytes. */
export function readHeader(bytes: Buffer, fileSize: number, codec: EntryEncoding, file: string): EntryHeader {
  return decodeHeader(bytes, fileSize, codec.serializerName, codec.secret !== undefined, file);
}

/**
 * Decodes a whole entry file read for the key stored as `keyBytes`. Never throws: a file that is not
 * a complete, current-format entry of this serializer, that holds another key, or whose MAC does not
 * match (with a secret: checked before anything else is believed, and before the payload is
 * deserialized), or whose payload does not deserialize, is `corrupt`.
 */
export function decodeEntry(bytes: Buffer, file: string, keyBytes: Buffer, codec: EntryEncoding, now: number): DecodedEntry {
  let header: EntryHeader;
  try {
    header = readHeader(bytes, bytes.length, codec, file);
  } catch (error) {
    return { kind: "corrupt", error: error as CorruptEntryError };
  }
  const payloadEnd = header.payloadOffset + header.payloadLength;
  if (codec.secret !== undefined) {
    const expected = mac(codec.secret, [bytes.subarray(0, payloadEnd)]);
    if (!timingSafeEqual(expected, bytes.subarray(payloadEnd, payloadEnd + MAC_SIZE))) {
      return {
        kind: "corrupt",
        error: new CorruptEntryError(
          `TempFileState: entry file ${file} has a wrong MAC (changed on disk, or written with another secret); it was not deserialized`,
        ),
      };
    }
  }
  if (header.keyLength !== keyBytes.length || keyBytes.compare(bytes, header.keyOffset, header.tagsOffset) !== 0) {
    return { kind: "corrupt", error: new CorruptEntryError(`TempFileState: entry file ${file} holds the entry of another key`) };
  }
  if (isExpired(header.expiresAt, now)) return { kind: "expired" };
  try {
    return { kind: "hit", entry: { value: codec.serializer.deserialize(bytes.subarray(header.payloadOffset, payloadEnd)) } };
  } catch (error) {
    return {
      kind: "corrupt",
      error: new CorruptEntryError(
        `TempFileState: the payload of entry file ${file} does not deserialize with serializer "${codec.serializer.name}"`,
        { cause: error },
      ),
    };
  }
}

// The type, not the value: a value the serializer refuses may be large, or hold what must not be logged.
/**
 * The serializer's own reason, cut short: it names where in the value and what it is (the
 * serializers Mimic ships never print a value's content), and the way out.
 */
function serializerMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
  return typeof value;
}

// Strictly increasing within the process, so that eviction keeps the write order even for entries
// written within the same millisecond; never behind the clock, so it stays comparable across processes.
let lastCreatedAt = 0;
function creationStamp(now: number): number {
  lastCreatedAt = Math.max(now, lastCreatedAt + 0.001);
  return lastCreatedAt;
}

/**
 * The chunks of an entry file for `value`: header (with the key and tags), payload, and the MAC
 * when the codec has a secret.
 * @param now the write time (ms since the epoch); the ttl counts from it.
 * @throws StateError when the serializer cannot encode the value (a function, a symbol…).
 */
export function encodeEntry(
  value: unknown,
  ttl: number | null,
  keyBytes: Buffer,
  tags: readonly string[],
  codec: EntryEncoding,
  now: number,
): Buffer[] {
  let payload: Uint8Array;
  try {
    payload = codec.serializer.serialize(value);
  } catch (error) {
    throw new StateError(
      `TempFileState: serializer "${codec.serializer.name}" cannot encode a value of type ${typeName(value)}: ${serializerMessage(error)}`,
      { cause: error },
    );
  }
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const header = encodeHeader({
    serializerName: codec.serializerName,
    createdAt: creationStamp(now),
    expiresAt: expiresAt(ttl, now),
    key: keyBytes,
    tags: encodeTags(tags),
    payloadLength: bytes.length,
    signed: codec.secret !== undefined,
  });
  return codec.secret === undefined ? [header, bytes] : [header, bytes, mac(codec.secret, [header, bytes])];
}
