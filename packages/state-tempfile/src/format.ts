import { CorruptEntryError } from "@mimic/core";

/**
 * On-disk layout of one entry file (all numbers little-endian):
 *
 * | offset        | size | field                                                    |
 * |---------------|------|----------------------------------------------------------|
 * | 0             | 4    | magic `MIMF`                                             |
 * | 4             | 1    | format version ({@link FORMAT_VERSION})                  |
 * | 5             | 1    | flags: bit 0 = signed (a MAC trails the file); others 0  |
 * | 6             | 1    | length n of the serializer name in bytes                 |
 * | 7             | 1    | reserved, 0                                              |
 * | 8             | 8    | created-at, float64 ms since the epoch (sub-ms precise)  |
 * | 16            | 8    | expires-at, float64 ms since the epoch, -1 = never       |
 * | 24            | 8    | payload length p, float64                                |
 * | 32            | 4    | key length k in bytes, uint32                            |
 * | 36            | 4    | tags length t in bytes, uint32                           |
 * | 40            | n    | serializer name, UTF-8                                   |
 * | 40+n          | k    | the key, UTF-16LE                                        |
 * | 40+n+k        | t    | the tags: per tag, a uint32 byte length and UTF-16LE     |
 * | 40+n+k+t      | p    | payload, as produced by the serializer                   |
 * | 40+n+k+t+p    | 32   | signed only: HMAC-SHA256 of every byte before it         |
 *
 * The key is kept so that a prefix can be deleted by reading keys back and so that a file moved
 * under another key's name is refused; the tags so that invalidating a tag only removes entries
 * that still carry it. The sizes let a reader tell a complete file from a truncated one (a crash
 * without `fsync` can leave a renamed file short or empty) without a checksum on the hot path.
 */
export const FORMAT_VERSION = 2;

/** Size of the fixed part of the header, before the serializer name. */
export const FIXED_HEADER_SIZE = 40;

/** Size of the MAC of a signed entry. */
export const MAC_SIZE = 32;

/**
 * How many bytes a walk reads first: the fixed header, any serializer name and, usually, the key
 * and tags. Longer keys and tag lists are read in a second call.
 */
export const HEAD_READ_SIZE = 4096;

const MAGIC = 0x464d494d; // "MIMF" read as a little-endian uint32
const SIGNED = 1;

/** What a header says about its entry. */
export interface EntryHeader {
  /** When the entry was written, in ms since the epoch (fractional). */
  readonly createdAt: number;
  /** When it expires, in ms since the epoch; `Infinity` for never. */
  readonly expiresAt: number;
  /** Whether a MAC trails the payload. */
  readonly signed: boolean;
  /** Where the key starts in the file, and its length in bytes. */
  readonly keyOffset: number;
  readonly keyLength: number;
  /** Where the tags start, and their length in bytes. */
  readonly tagsOffset: number;
  readonly tagsLength: number;
  /** Where the payload starts (the end of the header), and its length in bytes. */
  readonly payloadOffset: number;
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

const EMPTY = Buffer.alloc(0);

/** The tags section of a header. */
export function encodeTags(tags: readonly string[]): Buffer {
  if (tags.length === 0) return EMPTY;
  const parts: Buffer[] = [];
  for (const tag of tags) {
    const text = Buffer.from(tag, "utf16le");
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32LE(text.length, 0);
    parts.push(length, text);
  }
  return Buffer.concat(parts);
}

/**
 * Reads the tags section of an entry whose header was checked by {@link decodeHeader}.
 * @throws CorruptEntryError when the section is not a sequence of length-prefixed tags
 */
export function decodeTags(bytes: Buffer, header: EntryHeader, path: string): string[] {
  const tags: string[] = [];
  let offset = header.tagsOffset;
  const end = header.tagsOffset + header.tagsLength;
  while (offset < end) {
    const length = offset + 4 <= end ? bytes.readUInt32LE(offset) : -1;
    if (length < 0 || length % 2 !== 0 || offset + 4 + length > end) {
      throw new CorruptEntryError(`TempFileState: the tags of entry file ${path} are malformed`);
    }
    tags.push(bytes.toString("utf16le", offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return tags;
}

/** The fields of a header to write. */
export interface HeaderFields {
  readonly serializerName: Buffer;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly key: Buffer;
  readonly tags: Buffer;
  readonly payloadLength: number;
  readonly signed: boolean;
}

/** Builds the header (fixed part, serializer name, key and tags) that precedes the payload. */
export function encodeHeader(fields: HeaderFields): Buffer {
  const { serializerName: name, key, tags } = fields;
  const header = Buffer.allocUnsafe(FIXED_HEADER_SIZE + name.length + key.length + tags.length);
  header.writeUInt32LE(MAGIC, 0);
  header[4] = FORMAT_VERSION;
  header[5] = fields.signed ? SIGNED : 0;
  header[6] = name.length;
  header[7] = 0;
  header.writeDoubleLE(fields.createdAt, 8);
  header.writeDoubleLE(fields.expiresAt === Infinity ? -1 : fields.expiresAt, 16);
  header.writeDoubleLE(fields.payloadLength, 24);
  header.writeUInt32LE(key.length, 32);
  header.writeUInt32LE(tags.length, 36);
  name.copy(header, FIXED_HEADER_SIZE);
  key.copy(header, FIXED_HEADER_SIZE + name.length);
  tags.copy(header, FIXED_HEADER_SIZE + name.length + key.length);
  return header;
}

/**
 * Reads and checks the header at the start of `bytes`. `bytes` may be the start of the file only
 * (at least the fixed part and the serializer name); the key and tags are then checked for size,
 * not read.
 * @param fileSize the file's full size; pass `bytes.length` when `bytes` is the whole file.
 * @param signed whether this reader expects signed entries (it has a `secret`).
 * @throws CorruptEntryError naming `path` and what is wrong: too short, not an entry file, a format
 *   version this reader does not know, signed when unsigned was expected or the reverse, another
 *   serializer's entry, or sizes that do not add up to the file's (truncated or padded).
 */
export function decodeHeader(bytes: Buffer, fileSize: number, expectedName: Buffer, signed: boolean, path: string): EntryHeader {
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
  const flags = bytes[5] as number;
  if ((flags & ~SIGNED) !== 0) {
    throw new CorruptEntryError(`TempFileState: entry file ${path} has unknown flags 0x${flags.toString(16)}`);
  }
  const isSigned = (flags & SIGNED) !== 0;
  if (isSigned !== signed) {
    throw new CorruptEntryError(
      isSigned
        ? `TempFileState: entry file ${path} is signed, but this state has no secret to check it`
        : `TempFileState: entry file ${path} is not signed, and this state accepts only entries signed with its secret`,
    );
  }
  const nameLength = bytes[6] as number;
  const keyOffset = FIXED_HEADER_SIZE + nameLength;
  if (
    nameLength !== expectedName.length ||
    bytes.length < keyOffset ||
    expectedName.compare(bytes, FIXED_HEADER_SIZE, keyOffset) !== 0
  ) {
    const stored = bytes.toString("utf8", FIXED_HEADER_SIZE, Math.min(keyOffset, bytes.length));
    throw new CorruptEntryError(
      `TempFileState: entry file ${path} was written by serializer ${JSON.stringify(stored)}, ` +
        `not ${JSON.stringify(expectedName.toString("utf8"))}`,
    );
  }
  const keyLength = bytes.readUInt32LE(32);
  const tagsLength = bytes.readUInt32LE(36);
  const payloadLength = bytes.readDoubleLE(24);
  const tagsOffset = keyOffset + keyLength;
  const payloadOffset = tagsOffset + tagsLength;
  const expectedSize = payloadOffset + payloadLength + (isSigned ? MAC_SIZE : 0);
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0 || fileSize !== expectedSize) {
    throw new CorruptEntryError(
      `TempFileState: entry file ${path} is ${fileSize} bytes but its header announces ${expectedSize} (truncated or padded)`,
    );
  }
  const storedExpiry = bytes.readDoubleLE(16);
  return {
    createdAt: bytes.readDoubleLE(8),
    expiresAt: storedExpiry === -1 ? Infinity : storedExpiry,
    signed: isSigned,
    keyOffset,
    keyLength,
    tagsOffset,
    tagsLength,
    payloadOffset,
    payloadLength,
  };
}
