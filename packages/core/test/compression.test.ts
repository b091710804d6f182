import { compressed, InvalidOptionError, jsonSerializer, v8Serializer } from "../src/index";

describe("compressed(serializer)", () => {
  const big = { rows: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `user ${i}`, tags: ["a", "b"] })) };

  test.each(["brotli", "gzip"] as const)("%s: large entries shrink and come back equal; small ones are stored as they are", (algorithm) => {
    const serializer = compressed(v8Serializer, { algorithm });
    expect(serializer.name).toBe(`v8+${algorithm}`);
    const packed = serializer.serialize(big);
    expect(packed.length).toBeLessThan(v8Serializer.serialize(big).length / 3);
    expect(serializer.deserialize(packed)).toEqual(big);
    const small = serializer.serialize({ a: 1 });
    expect(small[0]).toBe(0);
    expect(small.length).toBe(v8Serializer.serialize({ a: 1 }).length + 1);
    expect(serializer.deserialize(small)).toEqual({ a: 1 });
  });

  test("wraps any serializer, and keeps its refusals", () => {
    const serializer = compressed(jsonSerializer, { threshold: 0 });
    expect(serializer.deserialize(serializer.serialize(big))).toEqual(big);
    expect(() => serializer.serialize(new Date())).toThrow(/JSON cannot keep/);
  });

  test("bytes that are not its own are refused", () => {
    expect(() => compressed(v8Serializer).deserialize(new Uint8Array([7, 1, 2]))).toThrow(/not a compression marker/);
  });

  test.each([
    [{ threshold: -1 }, /threshold must be an integer >= 0/],
    [{ threshold: 1.5 }, /threshold must be an integer >= 0/],
    [{ algorithm: "zstd" }, /algorithm must be "brotli" or "gzip", got "zstd"/],
    [{ level: 9 }, /unknown option "level"/],
  ])("%p is refused", (options, message) => {
    expect(() => compressed(v8Serializer, options as never)).toThrow(InvalidOptionError);
    expect(() => compressed(v8Serializer, options as never)).toThrow(message);
  });
});
