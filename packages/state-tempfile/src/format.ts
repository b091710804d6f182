import { CorruptEntryError } from "@mimic/core";

/**
 * On-disk layout of one entry file (all numbers little-endian):
 *
 * | offset | size | field                                                  |
 * |--------|------|--------------------------------------------------------|
 * | 0      | 4    | magic `MIMF`                                           |
 * | 4      | 1    | format version ({@link FORMAT_VERSION})                |
 * | 5      | 1    | flags (reserved, 0)                                    |
 * | 6      | 1    | length n of the serializer name in bytes               |
 * | 7      | 1    | reserved, 0                                            |
 * | 8      | 8    | created-at, float64 ms since the epoch (sub-ms precise) |
 * | 16     | 8    | expires-at, float64 ms since the epoch, -1 = never     |
 * | 24     | 8    | payload length, float64                                |
 * | 32     | n    | serializer name, UTF-8                                 |
 * | 32 + n | len  | payload, as produced by the serializer                 |
 *
 * The payload length lets a reader tell a complete file from a truncated one (a crash without
 * `fsync` can leave a renamed file short or empty) without a checksum on the hot path.
 */
export const FORMAT_VERSION = 1;

/** Size of the fixed part of the header, before the serializer name. */
export const FIXED_HEADER_SIZE = 32;

/** The most bytes a reader needs to see the whole header (fixed part + the longest name). */
export const MAX_HEADER_SIZE = FIXED_HEADER_SIZE + 255;

const MAGIC = 0x464d494d; // "MIMF" read as a little-endian uint32

/** What a header says about its entry. */
export interface EntryHeader {
  /** When the entry was written, in ms since the epoch (fractional). */
  readonly createdAt: number;
  /** When it expires, in ms since the epoch; `Infinity` for never. */
  readonly expiresAt: number;
  /** Where the payload starts in the file. */
  readonly payloadOffset: number;
  /** The payload's length in bytes. */
  readonly payloadLength: number;
}

/** The serializer name as stored in headers; at most 255 bytes. */
export function encodeSerializerName(name: string): Buffer {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length === 0 || bytes.length > 255) {
    throw new RangeError(`serializer name must be 1 to 255 bytes of UTF-8, got ${JSON.stringify(name)} (${bytes.length} bytes)`);
  }
  return bytes;
}

/** Builds the header that precedes a payload of `payloadLength` bytes. */
export function encodeHeader(name: Buffer, createdAt: number, expiresAt: number, payloadLength: number): Buffer {
  const header = Buffer.allocUnsafe(FIXED_HEADER_SIZE + name.length);
  header.writeUInt32LE(MAGIC, 0);
  header[4] = FORMAT_VERSION;
  header[5] = 0;
  header[6] = name.length;
  header[7] = 0;
  header.writeDoubleLE(createdAt, 8);
  header.writeDoubleLE(expiresAt === Infinity ? -1 : expiresAt, 16);
  header.writeDoubleLE(payloadLength, 24);
  name.copy(header, FIXED_HEADER_SIZE);
  return header;
}

/**
 * Reads and checks the header at the start of `bytes`.
 * @param fileSize the file's full size; pass `bytes.length` when `bytes` is the whole file.
 * @throws CorruptEntryError naming `path` and what is wrong: too short, not an entry file, a format
 *   version this reader does not know, another serializer's entry, or a truncated payload.
 */
export function decodeHeader(bytes: Buffer, fileSize: number, expectedName: Buffer, path: string): EntryHeader {
  if (bytes.length < FIXED_HEADER_SIZE) {
    throw new CorruptEntryError(`TempFileState: entry file ${path} is ${fileSize} bytes, shorter than a header`);
  }
  if (bytes.readUInt32LE(0) !== MAGIC) {
    throw new CorruptEntryError(`TempFileState: ${path} is not a Mimic entry file (bad magic number)`);
  }
  const version = bytes[4];
  if (version !== FORMAT_VERSION) {
    throw new CorruptEntryError(
      `TempFileState: entry file ${path} has format version ${version}; this reader knows version ${FORMAT_VERSION}`,
    );
  }
  const nameLength = bytes[6] as number;
  const payloadOffset = FIXED_HEADER_SIZE + nameLength;
  if (
    nameLength !== expectedName.length ||
    bytes.length < payloadOffset ||
    expectedName.compare(bytes, FIXED_HEADER_SIZE, payloadOffset) !== 0
  ) {
    const stored = bytes.toString("utf8", FIXED_HEADER_SIZE, Math.min(payloadOffset, bytes.length));
    throw new CorruptEntryError(
      `TempFileState: entry file ${path} was written by serializer ${JSON.stringify(stored)}, ` +
        `not ${JSON.stringify(expectedName.toString("utf8"))}`,
    );
  }
  const payloadLength = bytes.readDoubleLE(24);
  if (fileSize !== payloadOffset + payloadLength) {
    throw new CorruptEntryError(
      `TempFileState: entry file ${path} is ${fileSize} bytes but its header announces ${payloadOffset + payloadLength} (truncated or padded)`,
    );
  }
  const storedExpiry = bytes.readDoubleLE(16);
  return {
    createdAt: bytes.readDoubleLE(8),
    expiresAt: storedExpiry === -1 ? Infinity : storedExpiry,
    payloadOffset,
    payloadLength,
  };
}
