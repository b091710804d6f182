import { v8Serializer } from "../src/index";

const roundTrip = (value: unknown): unknown => v8Serializer.deserialize(v8Serializer.serialize(value));

describe("v8Serializer refuses what node:v8 would give back changed", () => {
  class User {
    constructor(readonly id: number) {}
    greet(): string {
      return `hi ${this.id}`;
    }
  }
  class NotFound extends Error {}
  const withCode = Object.assign(new Error("boom"), { code: "E_BOOM" });
  const taggedDate = Object.assign(new Date(0), { label: "epoch" });
  const symbolKeyed = { [Symbol("s")]: 1, a: 1 };

  test.each([
    ["a class instance", new User(1), /the value is a User instance/],
    ["a URL", new URL("https://example.com/a"), /the value is a URL instance/],
    ["an Error subclass", new NotFound("x"), /NotFound \(an Error subclass\)/],
    ["an Error with extra properties", withCode, /extra properties \(code\)/],
    [
      "an Error with a non-enumerable extra property",
      Object.defineProperty(new Error("boom"), "code", { value: "E_HIDDEN", enumerable: false }),
      /extra properties \(code\)/,
    ],
    ["a RegExp part-way through a string", Object.assign(/a/g, { lastIndex: 3 }), /a RegExp with lastIndex 3/],
    ["a Date with extra properties", taggedDate, /extra properties \(label\)/],
    ["symbol-keyed properties", symbolKeyed, /symbol-keyed/],
    ["an object without a prototype", Object.create(null) as object, /without a prototype/],
    ["a nested class instance", { users: [new User(2)] }, /the value\.users\[0\] is a User instance/],
    ["a class instance in a Map", new Map([["k", new User(3)]]), /value #0 is a User instance/],
    ["an AggregateError", new AggregateError([new Error("a")], "m"), /AggregateError/],
    ["a class instance in an array's extra property", Object.assign([1, 2], { owner: new User(4) }), /the value\.owner is a User instance/],
    ["a class instance after holes", [, , new User(5)], /the value\[2\] is a User instance/],
    [
      "a class instance in a sparse array's extra property",
      Object.assign(new Array<unknown>(3).fill(undefined, 0, 1), { x: new User(6) }),
      /the value\.x is a User instance/,
    ],
    ["a class instance as an Error's cause", new Error("e", { cause: new User(7) }), /the value\.cause is a User instance/],
    ["a class instance deep in rows", { rows: [{ n: 1 }, { n: 2, when: [new User(8)] }] }, /the value\.rows\[1\]\.when\[0\] is a User instance/],
  ])("%s", (_, value, message) => {
    expect(() => v8Serializer.serialize(value)).toThrow(TypeError);
    expect(() => v8Serializer.serialize(value)).toThrow(message);
    expect(() => v8Serializer.serialize(value)).toThrow(/return plain data .* serializer/);
  });

  test.each([
    ["plain data", { a: [1, "x", null, undefined, NaN], b: { c: true } }],
    ["built-ins", [new Date(5), /re/g, new Map([[1, new Set([2])]]), 10n, new Uint8Array([1, 2]), Buffer.from("ab")]],
    ["native errors", [new Error("e", { cause: new TypeError("t") }), new RangeError("r")]],
    ["an array with extra properties", Object.assign([1, 2], { extra: 3 })],
    ["a cycle", (() => {
      const o: { self?: unknown } = {};
      o.self = o;
      return o;
    })()],
  ])("keeps %s", (_, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  test("deep nesting does not overflow the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => v8Serializer.serialize({ ok: true })).not.toThrow();
    // node:v8 itself may refuse such depth; the fidelity check must not be what overflows.
    try {
      v8Serializer.serialize(deep);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/v8Serializer/);
    }
  });
});

describe("v8Serializer's documented limits (what it does not check)", () => {
  it("stores typed arrays and Buffers without listing their elements, so named properties added to them are not seen", () => {
    const big = Buffer.alloc(1_000_000, 7);
    expect(roundTrip(big)).toEqual(big);
    const named = Object.assign(new Uint8Array([1, 2]), { label: "dropped" });
    expect(roundTrip(named)).toEqual(new Uint8Array([1, 2]));
    expect(() => v8Serializer.serialize(Object.assign(new Uint8Array([1]), { [Symbol("s")]: 1 }))).toThrow(/symbol-keyed/);
  });

  it("stores a getter as the value it gave, drops non-enumerable properties and does not keep an object frozen", () => {
    const value = { a: 1, get b() { return this.a + 1; } };
    Object.defineProperty(value, "hidden", { value: 5, enumerable: false });
    const back = roundTrip(Object.freeze(value)) as Record<string, unknown>;
    expect(back).toEqual({ a: 1, b: 2 });
    expect(Object.getOwnPropertyDescriptor(back, "b")).toMatchObject({ value: 2, writable: true });
    expect("hidden" in back).toBe(false);
    expect(Object.isFrozen(back)).toBe(false);
  });
});
