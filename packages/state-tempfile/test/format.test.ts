import { CorruptEntryError } from "@mimic/core";
import {
  FIXED_HEADER_SIZE,
  FORMAT_VERSION,
  MAC_SIZE,
  decodeHeader,
  decodeTags,
  encodeHeader,
  encodeSerializerName,
  encodeTags,
} from "../src/format";

const v8 = encodeSerializerName("v8");
const KEY = Buffer.from("f|key", "utf16le");

function entry(payload: Buffer, options: { expiresAt?: number; name?: Buffer; tags?: string[]; signed?: boolean } = {}): Buffer {
  const header = encodeHeader({
    serializerName: options.name ?? v8,
    createdAt: 1_700_000_000_000.5,
    expiresAt: options.expiresAt ?? Infinity,
    key: KEY,
    tags: encodeTags(options.tags ?? []),
    payloadLength: payload.length,
    signed: options.signed ?? false,
  });
  return Buffer.concat([header, payload, options.signed ? Buffer.alloc(MAC_SIZE, 7) : Buffer.alloc(0)]);
}

describe("entry header", () => {
  it("round-trips created-at, expiry, the key, the tags and the payload's place", () => {
    const bytes = entry(Buffer.from("hello"), { expiresAt: 1_700_000_001_000, tags: ["user:1", "a|b", "\uD800"] });
    const header = decodeHeader(bytes, bytes.length, v8, false, "/x");
    const tagsLength = encodeTags(["user:1", "a|b", "\uD800"]).length;
    expect(header).toEqual({
      createdAt: 1_700_000_000_000.5,
      expiresAt: 1_700_000_001_000,
      signed: false,
      keyOffset: FIXED_HEADER_SIZE + 2,
      keyLength: KEY.length,
      tagsOffset: FIXED_HEADER_SIZE + 2 + KEY.length,
      tagsLength,
      payloadOffset: FIXED_HEADER_SIZE + 2 + KEY.length + tagsLength,
      payloadLength: 5,
    });
    expect(bytes.toString("utf16le", header.keyOffset, header.tagsOffset)).toBe("f|key");
    expect(decodeTags(bytes, header, "/x")).toEqual(["user:1", "a|b", "\uD800"]);
    expect(bytes.subarray(header.payloadOffset).toString()).toBe("hello");
  });

  it("stores 'never expires' as -1 and reads it back as Infinity", () => {
    const bytes = entry(Buffer.alloc(0));
    expect(bytes.readDoubleLE(16)).toBe(-1);
    expect(decodeHeader(bytes, bytes.length, v8, false, "/x").expiresAt).toBe(Infinity);
  });

  it("counts the MAC of a signed entry in its size", () => {
    const bytes = entry(Buffer.from("abc"), { signed: true });
    expect(decodeHeader(bytes, bytes.length, v8, true, "/x")).toMatchObject({ signed: true, payloadLength: 3 });
  });

  it.each([
    ["an empty file", () => Buffer.alloc(0), /shorter than a header/, false],
    ["a truncated header", () => entry(Buffer.from("abc")).subarray(0, 20), /shorter than a header/, false],
    ["foreign bytes", () => Buffer.from("PK\u0003\u0004 this is a zip file, not an entry.....!!!!!!!!!!"), /bad magic/, false],
    [
      "a future format version",
      () => {
        const bytes = entry(Buffer.from("abc"));
        bytes[4] = FORMAT_VERSION + 1;
        return bytes;
      },
      new RegExp(`format version ${FORMAT_VERSION + 1}`),
      false,
    ],
    [
      "the previous format version",
      () => {
        const bytes = entry(Buffer.from("abc"));
        bytes[4] = FORMAT_VERSION - 1;
        return bytes;
      },
      new RegExp(`format version ${FORMAT_VERSION - 1}`),
      false,
    ],
    [
      "unknown flags",
      () => {
        const bytes = entry(Buffer.from("abc"));
        bytes[5] = 0x80;
        return bytes;
      },
      /unknown flags 0x80/,
      false,
    ],
    ["a signed entry read without a secret", () => entry(Buffer.from("abc"), { signed: true }), /is signed, but this state has no secret/, false],
    ["an unsigned entry read with a secret", () => entry(Buffer.from("abc")), /is not signed/, true],
    ["another serializer's entry", () => entry(Buffer.from("{}"), { name: encodeSerializerName("json") }), /serializer "json"/, false],
    ["a truncated payload", () => entry(Buffer.from("abcdef")).subarray(0, -3), /truncated/, false],
    ["trailing bytes", () => Buffer.concat([entry(Buffer.from("abc")), Buffer.from("zz")]), /truncated or padded/, false],
  ])("rejects %s with a CorruptEntryError naming the file", (_, make, message, signed) => {
    const bytes = make();
    let error: unknown;
    try {
      decodeHeader(bytes, bytes.length, v8, signed, "/cache/ab/abcdef");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptEntryError);
    expect((error as CorruptEntryError).code).toBe("MIMIC_CORRUPT_ENTRY");
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("/cache/ab/abcdef");
  });

  it("rejects malformed tags", () => {
    const bytes = entry(Buffer.from("abc"), { tags: ["abc"] });
    const header = decodeHeader(bytes, bytes.length, v8, false, "/x");
    bytes.writeUInt32LE(1000, header.tagsOffset);
    expect(() => decodeTags(bytes, header, "/x")).toThrow(/tags of entry file \/x are malformed/);
  });

  it("refuses serializer names that do not fit the header", () => {
    expect(() => encodeSerializerName("")).toThrow(RangeError);
    expect(() => encodeSerializerName("x".repeat(256))).toThrow(/256 bytes/);
    expect(encodeSerializerName("x".repeat(255))).toHaveLength(255);
  });
});
