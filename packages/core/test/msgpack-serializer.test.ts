import * as msgpackr from "msgpackr";
import { compressed, msgpackSerializer, v8Serializer } from "../src/index";

describe("msgpackSerializer(msgpackr)", () => {
  const serializer = msgpackSerializer(msgpackr);
  const roundTrip = (value: unknown): unknown => serializer.deserialize(serializer.serialize(value));

  test.each([
    ["plain data", { id: 1, name: "x", tags: ["a", "b"], nested: { ok: true, none: null, missing: undefined } }],
    ["numbers", [0, 1.5, -3, NaN, Infinity, Number.MAX_SAFE_INTEGER]],
    ["bigint", [10n, -(2n ** 80n)]],
    ["a Date", new Date(1234)],
    ["binary", [new Uint8Array([1, 2]), Buffer.from("ab")]],
    ["undefined", undefined],
  ])("keeps %s", (_, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  test("a Buffer comes back a Buffer", () => {
    expect(Buffer.isBuffer(roundTrip(Buffer.from("ab")))).toBe(true);
  });

  class Point {
    constructor(readonly x: number) {}
  }
  const shared = { n: 1 };
  test.each([
    ["-0", -0, /the value is -0/],
    ["a Map", new Map([[1, 2]]), /is a Map/],
    ["a Set", { s: new Set([1]) }, /the value\.s is a Set/],
    ["a class instance", [new Point(1)], /the value\[0\] is a Point instance/],
    ["a sparse array", [1, , 3], /sparse array/],
    ["a shared object", { a: shared, b: shared }, /reached twice/],
    ["a symbol", { s: Symbol("s") }, /is a symbol/],
    ["another typed array", [1, new Float64Array([1.5])], /the value\[1\] is a Float64Array instance/],
  ])("refuses %s, naming where", (_, value, message) => {
    expect(() => serializer.serialize(value)).toThrow(TypeError);
    expect(() => serializer.serialize(value)).toThrow(message);
  });

  test("is smaller than v8 for plain data, and composes with compression", () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `user ${i}`, active: i % 2 === 0 }));
    expect(serializer.serialize(rows).length).toBeLessThan(v8Serializer.serialize(rows).length);
    const both = compressed(serializer, { threshold: 0 });
    expect(both.name).toBe("msgpack+brotli");
    expect(both.deserialize(both.serialize(rows))).toEqual(rows);
  });

  test("wants the module", () => {
    expect(() => msgpackSerializer({} as never)).toThrow(/pass the msgpackr module/);
  });
});
