import { CorruptEntryError, type CacheEntry, type Serializer } from "@mimic/core";
import { UnserializableValueError } from "./errors.js";

/**
 * Entry layout in Redis: `0x6d` ("m"), format version, serializer-name length (1 byte), serializer name
 * (UTF-8), then the serializer's bytes. The header lets a reader tell a Mimic entry written by its own
 * serializer from garbage, an older/newer format, or another serializer's bytes, and report those as a
 * corrupt entry (a miss) instead of deserializing them. A Redis "nil" is the only miss; a stored
 * `undefined` is a header followed by the serializer's encoding of `undefined`.
 */
const MAGIC = 0x6d;
/** Version of the entry layout; bumped when the header changes. */
export const ENTRY_FORMAT_VERSION = 1;

function hex(byte: number | undefined): string {
  return byte === undefined ? "none" : `0x${byte.toString(16).padStart(2, "0")}`;
}

/** Encodes and decodes entries for one serializer. */
export class EntryCodec {
  readonly #serializer: Serializer;
  readonly #header: Buffer;

  constructor(serializer: Serializer) {
    this.#serializer = serializer;
    const name = Buffer.from(serializer.name, "utf8");
    this.#header = Buffer.concat([Buffer.from([MAGIC, ENTRY_FORMAT_VERSION, name.length]), name]);
  }

  /**
   * The bytes to store for `value`, in a buffer of their own (safe to transfer to a worker thread).
   * @throws UnserializableValueError when the serializer cannot encode the value.
   */
  encode(value: unknown, key: string): Uint8Array {
    let payload: Uint8Array;
    try {
      payload = this.#serializer.serialize(value);
    } catch (error) {
      throw new UnserializableValueError(
        `cannot store the value for "${key}": serializer "${this.#serializer.name}" failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const bytes = new Uint8Array(this.#header.length + payload.length);
    bytes.set(this.#header, 0);
    bytes.set(payload, this.#header.length);
    return bytes;
  }

  /**
   * The entry stored in `bytes`.
   * @throws CorruptEntryError when the bytes are not an entry of this format and serializer, or do not
   *   deserialize; the message names `key`.
   */
  decode(bytes: Uint8Array, key: string): CacheEntry {
    const header = this.#header;
    if (bytes.length < header.length || Buffer.compare(header, bytes.subarray(0, header.length)) !== 0) {
      throw new CorruptEntryError(this.#describeMismatch(bytes, key));
    }
    try {
      return { value: this.#serializer.deserialize(bytes.subarray(header.length)) };
    } catch (error) {
      throw new CorruptEntryError(
        `the entry under "${key}" does not deserialize with serializer "${this.#serializer.name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #describeMismatch(bytes: Uint8Array, key: string): string {
    const where = `the entry under "${key}" (${bytes.length} bytes)`;
    if (bytes[0] !== MAGIC) return `${where} is not a Mimic entry: it starts with ${hex(bytes[0])}`;
    if (bytes[1] !== ENTRY_FORMAT_VERSION) {
      return `${where} has entry format version ${bytes[1] ?? "none"}; this version of @mimic/state-redis reads ${ENTRY_FORMAT_VERSION}`;
    }
    const nameLength = bytes[2] ?? 0;
    if (bytes.length < 3 + nameLength) return `${where} is truncated inside its header`;
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + 3, nameLength).toString("utf8");
    return `${where} was written by serializer "${name}"; this state reads "${this.#serializer.name}"`;
  }
}
