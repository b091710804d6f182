import { digestKey, jsonSerializer, shortenKey, v8Serializer } from "../src/index";

describe("jsonSerializer", () => {
  const roundTrip = (value: unknown) => jsonSerializer.deserialize(jsonSerializer.serialize(value));

  it.each([undefined, null, 0, false, "", "x", [1, "a", null], { a: { b: [true] } }, { $mimic: "undefined" }, { v: 1 }])(
    "gives back %p unchanged",
    (value) => {
      expect(roundTrip(value)).toEqual(value);
    },
  );

  it.each([
    [NaN, /is NaN/],
    [-0, /is -0/],
    [Infinity, /is Infinity/],
    [{ a: undefined }, /property "a" is undefined/],
    [[1, , 3], /sparse array/],
    [new Date(0), /is a Date/],
    [new Map(), /is a Map/],
    [{ n: 1n }, /is a bigint/],
  ])("refuses %p rather than return something else", (value, message) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(message);
  });

  it("refuses bytes that are not its own", () => {
    expect(() => jsonSerializer.deserialize(Buffer.from("[1]"))).toThrow(/not a Mimic JSON entry/);
    expect(() => jsonSerializer.deserialize(Buffer.from("{"))).toThrow();
  });
});

describe("v8Serializer", () => {
  it("keeps structured-clone values", () => {
    const value = { d: new Date(1), m: new Map([[1, NaN]]), u: undefined, b: 10n };
    expect(v8Serializer.deserialize(v8Serializer.serialize(value))).toEqual(value);
  });
});

describe("key digests", () => {
  it("tell lone surrogates apart", () => {
    expect(digestKey("a\uD800")).not.toBe(digestKey("a\uDC00"));
    const long = (s: string) => `ns|A1:s300:${s.repeat(300)}`;
    expect(shortenKey(long("\uD800"), 64)).not.toBe(shortenKey(long("\uDC00"), 64));
  });
});
