import { CorruptEntryError, type CacheEntry, type Serializer } from "@mimic/core";
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidTagError, UnserializableValueError } from "./errors.js";
import { tagBytes } from "./keys.js";

/**
 * Entry layout in Redis (format 3):
 *
 * | bytes | meaning |
 * | ----- | ------- |
 * | 1     | `0x6d` ("m") |
 * | 1     | format version (3) |
 * | 1     | flags: bit 0 = signed (an HMAC follows the tags) |
 * | 1 + n | serializer-name length, then the name (UTF-8) |
 * | 2 + … | tag count (uint16 BE), then per tag its length (uint16 BE) and bytes ({@link tagBytes}) |
 * | 8     | only when tagged: the entry's start, in microseconds of Redis server time (uint64 BE) |
 * | 32    | only when signed: HMAC-SHA256 with the secret over the state prefix, the entry's key and every other byte (header and payload) |
 * | rest  | the serializer's bytes |
 *
 * The header lets a reader tell a Mimic entry written by its own serializer from garbage, another
 * format or another serializer's bytes, and report those as a corrupt entry (a miss) instead of
 * deserializing them. The tags and the start let a read check the entry against its tags' records
 * (see tag-records.ts): it is stale once any of them is missing or stamped at or after its start.
 * A Redis "nil" is the only miss;
 * a stored `undefined` is a header followed by the serializer's encoding of `undefined`.
 */
/** First byte of every entry. */
export const ENTRY_MAGIC = 0x6d;
const MAGIC = ENTRY_MAGIC;
/** Version of the entry layout; bumped when the header changes. */
export const ENTRY_FORMAT_VERSION = 3;
const SIGNED = 0x01;
const MAC_LENGTH = 32;
const MAX_U16 = 0xffff;
const START_LENGTH = 8;
/** The tags of every untagged entry (shared: the hot path allocates nothing for them). */
const NO_TAGS: Buffer[] = [];

/** An entry as stored: its value, and for a tagged entry its tags (as bytes) and start. */
export interface StoredEntry {
  readonly entry: CacheEntry;
  /** The tags' bytes ({@link tagBytes}); empty for an untagged entry. */
  readonly tags: readonly Buffer[];
  /** Microseconds of Redis server time at or before the moment the value's execution began; 0 untagged. */
  readonly start: number;
}

function hex(byte: number | undefined): string {
  return byte === undefined ? "none" : `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Encodes and decodes entries for one serializer (and, when given, one secret and the state prefix the
 * signatures are bound to: an entry copied to another key or prefix does not verify).
 */
export class EntryCodec {
  readonly #serializer: Serializer;
  readonly #secret: Buffer | undefined;
  readonly #prefix: Buffer;
  /** Magic, version, flags, serializer name: the same for every entry of this codec. */
  readonly #fixed: Buffer;
  /** The header of an untagged entry, up to the MAC (the hot path builds nothing). */
  readonly #untagged: Buffer;

  constructor(serializer: Serializer, secret?: Uint8Array, prefix = "") {
    this.#serializer = serializer;
    this.#prefix = Buffer.from(prefix, "utf16le");
    this.#secret = secret === undefined ? undefined : Buffer.from(secret);
    const name = Buffer.from(serializer.name, "utf8");
    this.#fixed = Buffer.concat([Buffer.from([MAGIC, ENTRY_FORMAT_VERSION, secret === undefined ? 0 : SIGNED, name.length]), name]);
    this.#untagged = Buffer.concat([this.#fixed, Buffer.from([0, 0])]);
  }

  /**
   * The bytes to store for `value`, in a buffer of their own (safe to transfer to a worker thread).
   * @throws UnserializableValueError when the serializer cannot encode the value; InvalidTagError for
   *   more than 65,535 tags or a tag over 65,535 bytes.
   */
  encode(value: unknown, key: string, tags?: readonly string[], start = 0): Uint8Array {
    return this.#assemble(this.#serialize(value, key), key, tags, start);
  }

  #serialize(value: unknown, key: string): Uint8Array {
    try {
      return this.#serializer.serialize(value);
    } catch (error) {
      throw new UnserializableValueError(
        `cannot store the value for "${key}": serializer "${this.#serializer.name}" failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #assemble(payload: Uint8Array, key: string, tags: readonly string[] | undefined, start: number): Uint8Array {
    const header = tags === undefined || tags.length === 0 ? this.#untagged : this.#taggedHeader(tags, key, start);
    const macLength = this.#secret === undefined ? 0 : MAC_LENGTH;
    const bytes = new Uint8Array(header.length + macLength + payload.length);
    bytes.set(header, 0);
    bytes.set(payload, header.length + macLength);
    if (this.#secret !== undefined) {
      bytes.set(this.#mac(key, bytes.subarray(0, header.length), payload), header.length);
    }
    return bytes;
  }

  /**
   * Serializes `value` and checks `tags` now, and returns how to build the entry's bytes once its
   * start (microseconds of server time, for a tagged entry) is known.
   * @throws UnserializableValueError, InvalidTagError as {@link EntryCodec.encode}
   */
  prepare(value: unknown, key: string, tags: readonly string[]): (start: number) => Uint8Array {
    const payload = this.#serialize(value, key);
    if (tags.length > 0) this.#taggedHeader(tags, key, 0);
    return (start) => this.#assemble(payload, key, tags, start);
  }

  /**
   * The entry stored in `bytes`.
   * @throws CorruptEntryError when the bytes are not an entry of this format and serializer, are
   *   unsigned or wrongly signed while this codec has a secret (or signed while it has none), or do
   *   not deserialize; the message names `key`. Nothing is deserialized before those checks pass.
   */
  decode(bytes: Uint8Array, key: string): CacheEntry {
    return this.decodeStored(bytes, key).entry;
  }

  /** Like {@link EntryCodec.decode}, with the tags and start of a tagged entry. */
  decodeStored(bytes: Uint8Array, key: string): StoredEntry {
    const fixed = this.#fixed;
    const where = (): string => `the entry under "${key}" (${bytes.length} bytes)`;
    if (bytes.length < fixed.length + 2 || bytes[0] !== MAGIC || bytes[1] !== ENTRY_FORMAT_VERSION ||
      Buffer.compare(fixed.subarray(3), bytes.subarray(3, fixed.length)) !== 0) {
      throw new CorruptEntryError(this.#describeMismatch(bytes, key));
    }
    const signed = ((bytes[2] ?? 0) & SIGNED) !== 0;
    if (signed !== (this.#secret !== undefined)) {
      throw new CorruptEntryError(
        signed
          ? `${where()} is signed, but this state has no secret to check it with: give it the writers' secret option`
          : `${where()} is not signed, but this state has a secret: unsigned entries are never read`,
      );
    }
    let end = fixed.length;
    let count = readU16(bytes, end);
    end += 2;
    let tags: Buffer[] = NO_TAGS;
    let start = 0;
    if (count > 0) {
      tags = [];
      while (count-- > 0 && end <= bytes.length) {
        const length = readU16(bytes, end);
        tags.push(Buffer.from(bytes.buffer, bytes.byteOffset + end + 2, Math.max(0, Math.min(length, bytes.length - end - 2))));
        end += 2 + length;
      }
      if (end + START_LENGTH <= bytes.length) start = Number(Buffer.from(bytes.buffer, bytes.byteOffset + end, START_LENGTH).readBigUInt64BE());
      end += START_LENGTH;
    }
    if (end > bytes.length || (signed && end + MAC_LENGTH > bytes.length)) {
      throw new CorruptEntryError(`${where()} is truncated inside its header`);
    }
    let payloadStart = end;
    if (this.#secret !== undefined) {
      payloadStart = end + MAC_LENGTH;
      const expected = this.#mac(key, bytes.subarray(0, end), bytes.subarray(payloadStart));
      if (!timingSafeEqual(expected, bytes.subarray(end, payloadStart))) {
        throw new CorruptEntryError(
          `${where()} has a wrong signature (HMAC): it was altered, copied from another key, or written without this secret`,
        );
      }
    }
    try {
      return { entry: { value: this.#serializer.deserialize(bytes.subarray(payloadStart)) }, tags, start };
    } catch (error) {
      throw new CorruptEntryError(
        `the entry under "${key}" does not deserialize with serializer "${this.#serializer.name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #mac(key: string, header: Uint8Array, payload: Uint8Array): Buffer {
    // Prefix and key as UTF-16LE (lossless for lone surrogates), each behind its length, so that no
    // two (prefix, key) pairs feed the same bytes.
    const keyBytes = Buffer.from(key, "utf16le");
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(this.#prefix.length, 0);
    lengths.writeUInt32BE(keyBytes.length, 4);
    return createHmac("sha256", this.#secret!).update(lengths).update(this.#prefix).update(keyBytes).update(header).update(payload).digest();
  }

  #taggedHeader(tags: readonly string[], key: string, start: number): Buffer {
    const unique = [...new Set(tags)];
    if (unique.length > MAX_U16) throw new InvalidTagError(`cannot store "${key}" with ${unique.length} tags: at most ${MAX_U16}`);
    const parts: Buffer[] = [this.#fixed, u16(unique.length)];
    for (const tag of unique) {
      const encoded = tagBytes(tag);
      if (encoded.length > MAX_U16) {
        throw new InvalidTagError(`cannot store "${key}": tag ${JSON.stringify(tag.slice(0, 40))}… has ${encoded.length} bytes, at most ${MAX_U16}`);
      }
      parts.push(u16(encoded.length), encoded);
    }
    const startBytes = Buffer.alloc(START_LENGTH);
    startBytes.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(start))));
    parts.push(startBytes);
    return Buffer.concat(parts);
  }

  #describeMismatch(bytes: Uint8Array, key: string): string {
    const where = `the entry under "${key}" (${bytes.length} bytes)`;
    if (bytes[0] !== MAGIC) return `${where} is not a Mimic entry: it starts with ${hex(bytes[0])}`;
    if (bytes[1] !== ENTRY_FORMAT_VERSION) {
      return `${where} has entry format version ${bytes[1] ?? "none"}; this version of @mimic/state-redis reads ${ENTRY_FORMAT_VERSION}`;
    }
    const nameLength = bytes[3] ?? 0;
    if (bytes.length < 4 + nameLength + 2) return `${where} is truncated inside its header`;
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + 4, nameLength).toString("utf8");
    return `${where} was written by serializer "${name}"; this state reads "${this.#serializer.name}"`;
  }
}

function u16(value: number): Buffer {
  return Buffer.from([value >> 8, value & 0xff]);
}

function readU16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
}
