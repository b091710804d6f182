import { CorruptEntryError, StateError, expiresAt, isExpired, type CacheEntry, type Serializer } from "@mimic/core";
import { decodeHeader, encodeHeader } from "./format.js";

/** What the bytes of an entry file turned out to hold. */
export type DecodedEntry =
  | { readonly kind: "hit"; readonly entry: CacheEntry }
  | { readonly kind: "expired" }
  | { readonly kind: "corrupt"; readonly error: CorruptEntryError };

/**
 * Decodes a whole entry file. Never throws: a file that is not a complete, current-format entry of
 * this serializer, or whose payload does not deserialize, is `corrupt`.
 */
export function decodeEntry(
  bytes: Buffer,
  file: string,
  serializer: Serializer,
  serializerName: Buffer,
  now: number,
): DecodedEntry {
  let header;
  try {
    header = decodeHeader(bytes, bytes.length, serializerName, file);
  } catch (error) {
    return { kind: "corrupt", error: error as CorruptEntryError };
  }
  if (isExpired(header.expiresAt, now)) return { kind: "expired" };
  try {
    return { kind: "hit", entry: { value: serializer.deserialize(bytes.subarray(header.payloadOffset)) } };
  } catch (error) {
    return {
      kind: "corrupt",
      error: new CorruptEntryError(
        `TempFileState: the payload of entry file ${file} does not deserialize with serializer "${serializer.name}"`,
        { cause: error },
      ),
    };
  }
}

function describeValue(value: unknown): string {
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
 * The chunks of an entry file for `value`: header, then payload.
 * @param now the write time (ms since the epoch); the ttl counts from it.
 * @throws StateError when the serializer cannot encode the value (a function, a symbol…).
 */
export function encodeEntry(
  value: unknown,
  ttl: number | null,
  serializer: Serializer,
  serializerName: Buffer,
  now: number,
): Buffer[] {
  let payload: Uint8Array;
  try {
    payload = serializer.serialize(value);
  } catch (error) {
    throw new StateError(
      `TempFileState: serializer "${serializer.name}" cannot encode a value of type ${describeValue(value)}`,
      { cause: error },
    );
  }
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return [encodeHeader(serializerName, creationStamp(now), expiresAt(ttl, now), bytes.length), bytes];
}
