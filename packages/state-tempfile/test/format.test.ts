import { CorruptEntryError } from "@mimic/core";
import {
  FIXED_HEADER_SIZE,
  FORMAT_VERSION,
  decodeHeader,
  encodeHeader,
  encodeSerializerName,
} from "../src/format";

const v8 = encodeSerializerName("v8");

function entry(payload: Buffer, expiresAt = Infinity, name = v8): Buffer {
  return Buffer.concat([encodeHeader(name, 1_700_000_000_000.5, expiresAt, payload.length), payload]);
}

describe("entry header", () => {
  it("round-trips created-at, expiry and the payload's place", () => {
    const bytes = entry(Buffer.from("hello"), 1_700_000_001_000);
    const header = decodeHeader(bytes, bytes.length, v8, "/x");
    expect(header).toEqual({
      createdAt: 1_700_000_000_000.5,
      expiresAt: 1_700_000_001_000,
      payloadOffset: FIXED_HEADER_SIZE + 2,
      payloadLength: 5,
    });
    expect(bytes.subarray(header.payloadOffset).toString()).toBe("hello");
  });

  it("stores 'never expires' as -1 and reads it back as Infinity", () => {
    const bytes = entry(Buffer.alloc(0));
    expect(bytes.readDoubleLE(16)).toBe(-1);
    expect(decodeHeader(bytes, bytes.length, v8, "/x").expiresAt).toBe(Infinity);
  });

  it.each([
    ["an empty file", () => Buffer.alloc(0), /shorter than a header/],
    ["a truncated header", () => entry(Buffer.from("abc")).subarray(0, 20), /shorter than a header/],
    ["foreign bytes", () => Buffer.from("PK\u0003\u0004 this is a zip file, not an entry....."), /bad magic/],
    [
      "a future format version",
      () => {
        const bytes = entry(Buffer.from("abc"));
        bytes[4] = FORMAT_VERSION + 1;
        return bytes;
      },
      new RegExp(`format version ${FORMAT_VERSION + 1}`),
    ],
    ["another serializer's entry", () => entry(Buffer.from("{}"), Infinity, encodeSerializerName("json")), /serializer "json"/],
    ["a truncated payload", () => entry(Buffer.from("abcdef")).subarray(0, FIXED_HEADER_SIZE + 2 + 3), /truncated/],
    ["trailing bytes", () => Buffer.concat([entry(Buffer.from("abc")), Buffer.from("zz")]), /truncated or padded/],
  ])("rejects %s with a CorruptEntryError naming the file", (_, make, message) => {
    const bytes = make();
    let error: unknown;
    try {
      decodeHeader(bytes, bytes.length, v8, "/cache/ab/abcdef");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptEntryError);
    expect((error as CorruptEntryError).code).toBe("MIMIC_CORRUPT_ENTRY");
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("/cache/ab/abcdef");
  });

  it("refuses serializer names that do not fit the header", () => {
    expect(() => encodeSerializerName("")).toThrow(RangeError);
    expect(() => encodeSerializerName("x".repeat(256))).toThrow(/256 bytes/);
    expect(encodeSerializerName("x".repeat(255))).toHaveLength(255);
  });
});
