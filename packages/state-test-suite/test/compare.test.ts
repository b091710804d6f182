import { deserialize, serialize } from "node:v8";
import { findMismatch } from "../src/compare.js";

// The suite's verdicts rest on this comparison: it must accept what a structured clone gives back and
// reject everything else, with a message that says where.
describe("findMismatch", () => {
  const clone = <T>(value: T): T => deserialize(serialize(value)) as T;

  test.each([
    ["NaN", NaN],
    ["-0", -0],
    ["undefined", undefined],
    ["a nested structure", { a: [1, { b: "c" }], d: null }],
    ["a sparse array", [1, , 3]],
    ["a Date", new Date(0)],
    ["an invalid Date", new Date(NaN)],
    ["a Map with an object key", new Map([[{ k: 1 }, "v"]])],
    ["a BigInt", 2n ** 100n],
  ])("accepts a v8 clone of %s", (_title, value) => {
    expect(findMismatch(value, clone(value))).toBeUndefined();
  });

  test("accepts a Uint8Array with the same bytes as a Buffer, including a pooled one", () => {
    const pooled = Buffer.from("pooled bytes");
    expect(pooled.byteOffset === 0 && pooled.buffer.byteLength === pooled.length).toBe(false);
    expect(findMismatch(pooled, new Uint8Array([...pooled]))).toBeUndefined();
    expect(findMismatch(pooled, clone(pooled))).toBeUndefined();
  });

  test("accepts a circular structure whose cycle is kept, rejects one whose cycle became a copy", () => {
    const make = () => {
      const root: Record<string, unknown> = { name: "root" };
      root["self"] = root;
      return root;
    };
    expect(findMismatch(make(), clone(make()))).toBeUndefined();
    const copied = { name: "root", self: { name: "root", self: {} } };
    expect(findMismatch(make(), copied)).toMatch(/same object as an earlier occurrence/);
  });

  test.each([
    ["0 for -0", -0, 0, /value is 0, expected -0/],
    ["null for NaN", NaN, null, /value is null, expected NaN/],
    ["undefined for null", null, undefined, /value is undefined, expected null/],
    ["a string for a Date", new Date(0), "1970-01-01T00:00:00.000Z", /value is '1970/],
    ["an object for a Map", new Map([["a", 1]]), {}, /is a Object .*expected a Map/],
    ["a missing undefined property", { a: undefined }, {}, /value\["a"\] is missing/],
    ["an extra property", {}, { b: 1 }, /unexpected property "b"/],
    ["a filled hole", [1, , 3], [1, undefined, 3], /value\[1\] is present, expected a hole/],
    ["reordered Map entries", new Map([["a", 1], ["b", 2]]), new Map([["b", 2], ["a", 1]]), /entry #0/],
    ["another byte", new Uint8Array([1, 2]), new Uint8Array([1, 3]), /differs at byte 1: 3 instead of 2/],
    ["another typed array type", new Uint8Array([1]), new Int8Array([1]), /is a Int8Array/],
    ["a truncated string", "abcdef", "abc", /3 chars, expected 6 chars; they first differ at index 3/],
  ])("rejects %s", (_title, expected, actual, message) => {
    expect(findMismatch(expected, actual)).toMatch(message);
  });

  test("never puts a large value in the message", () => {
    const big = "x".repeat(1_000_000);
    expect(findMismatch(big, 42)!.length).toBeLessThan(400);
    expect(findMismatch(big, `${big}y`)!.length).toBeLessThan(400);
  });
});
