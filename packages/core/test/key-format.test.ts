import { readFileSync } from "node:fs";
import path from "node:path";
import { encodeArguments, encodeCustomKey, MemoryState, Mime, shortenKey, UnsupportedArgumentError, MimicError } from "../src/index";
import { encodeThisArgument } from "../src/keys/encode";
import fc from "fast-check";
import { isFastKeyable, isLoneKeyable } from "../src/keys/keyable";
import { sharedNamespace, sourceDigest } from "../src/keys/namespace";
import { decodePrimitiveArguments } from "../src/keys/primitive";
import { Encoder } from "../src/keys/careful-encoder";
import { ObjectKeyCache } from "../src/keys/object-key-cache";

const doc = readFileSync(path.join(__dirname, "../../../docs/KEY_FORMAT.md"), "utf8");

function block(name: string): string[] {
  const match = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`text\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(doc);
  if (!match?.[1]) throw new Error(`no ${name} block in KEY_FORMAT.md`);
  return match[1].trim().split("\n");
}

describe("docs/KEY_FORMAT.md test vectors", () => {
  const vectors = block("vectors").map((line) => {
    const [input, expected] = line.split(" => ") as [string, string];
    return { input, expected: JSON.parse(expected) as string };
  });

  it("has at least 40 vectors", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(40);
  });

  it.each(vectors)("$input", ({ input, expected }) => {
    const args = new Function(`return ${input}`)() as unknown[];
    expect(encodeArguments(args)).toBe(expected);
  });

  it.each(block("this").map((line) => line.split(" => ") as [string, string]))("this = %s", (input, expected) => {
    expect(encodeThisArgument(new Function(`return ${input}`)())).toBe(JSON.parse(expected));
  });

  it("namespaces match", () => {
    const lines = block("namespaces");
    expect(lines[0]).toContain(JSON.stringify(sharedNamespace("sync", "add", "", sourceDigest("function add(a, b) { return a + b; }"))));
    expect(lines[1]).toContain(JSON.stringify(sharedNamespace("async", "Users.find", "2", "-")));
    expect(lines[2]).toContain(JSON.stringify(sharedNamespace("sync", "a:b|c d", "", "-")));
    expect(lines[3]).toContain(JSON.stringify(sharedNamespace("sync", "café", "", "-")));
  });
});

describe("argument lists that must never share a key", () => {
  const pairs: Array<[string, unknown[], unknown[]]> = [
    ["f(12) vs f(1, 2)", [12], [1, 2]],
    ["f(1) vs f('1')", [1], ["1"]],
    ["f([1]) vs f('1')", [[1]], ["1"]],
    ["f(undefined) vs f()", [undefined], []],
    ["f(undefined) vs f(null)", [undefined], [null]],
    ["f(null) vs f()", [null], []],
    ["f(0) vs f(-0)", [0], [-0]],
    ["f(0) vs f(false)", [0], [false]],
    ["f('') vs f(undefined)", [""], [undefined]],
    ["f(1n) vs f(1)", [1n], [1]],
    ["f('a', 'bc') vs f('ab', 'c')", ["a", "bc"], ["ab", "c"]],
    ["f('s1:a') vs f('a') forged", ["s1:a"], ["a"]],
    ["{ a: undefined } vs {}", [{ a: undefined }], [{}]],
    ["[,] vs [undefined]", [[,]], [[undefined]]],
    ["[1, , 3] vs [1, undefined, 3]", [[1, , 3]], [[1, undefined, 3]]],
    ["Date(0) vs 0", [new Date(0)], [0]],
    ["Date(1) vs Date(2)", [new Date(1)], [new Date(2)]],
    ["Map vs plain object", [new Map([["a", 1]])], [{ a: 1 }]],
    ["Set vs array", [new Set([1])], [[1]]],
    ["Map content", [new Map([["a", 1]])], [new Map([["a", 2]])]],
    ["Set content", [new Set([1])], [new Set(["1"])]],
    ["Buffer vs Uint8Array", [Buffer.from([1])], [new Uint8Array([1])]],
    ["Uint8Array content", [new Uint8Array([1])], [new Uint8Array([2])]],
    ["Uint8Array vs Int8Array", [new Uint8Array([1])], [new Int8Array([1])]],
    ["BigInt64Array content", [new BigInt64Array([1n])], [new BigInt64Array([2n])]],
    ["nested object vs string", [{ a: { b: 1 } }], [{ a: "{b:1}" }]],
    ["object key vs value", [{ ab: "" }], [{ a: "b" }]],
    ["array vs args", [[1, 2]], [1, 2]],
    ["RegExp flags", [/a/g], [/a/i]],
    ["NaN vs undefined", [NaN], [undefined]],
  ];
  it.each(pairs)("%s", (_label, a, b) => {
    expect(encodeArguments(a)).not.toBe(encodeArguments(b));
  });

  it("treats equal-by-value arguments as one key", () => {
    expect(encodeArguments([{ a: 1, b: 2 }])).toBe(encodeArguments([{ b: 2, a: 1 }]));
    expect(encodeArguments([new Date(5)])).toBe(encodeArguments([new Date(5)]));
    expect(encodeArguments([new Map([[1, "a"], [2, "b"]])])).toBe(encodeArguments([new Map([[2, "b"], [1, "a"]])]));
    expect(encodeArguments([new Set([1, 2])])).toBe(encodeArguments([new Set([2, 1])]));
    expect(encodeArguments([Buffer.from("xy")])).toBe(encodeArguments([Buffer.from("xy")]));
    expect(encodeArguments([NaN])).toBe(encodeArguments([Number("x")]));
    const shared = { v: 1 };
    expect(encodeArguments([[shared, shared]])).toBe(encodeArguments([[{ v: 1 }, { v: 1 }]]));
  });

  it("tells custom keys apart from argument lists", () => {
    expect(encodeCustomKey("A1:d1;")).not.toBe(encodeArguments([1]));
    expect(encodeCustomKey([1])).toBe(encodeCustomKey([1]));
  });
});

describe("values without a faithful key", () => {
  class User {
    constructor(readonly id: number) {}
  }
  class MyArray extends Array<number> {}
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: Array<[string, unknown[], RegExp]> = [
    ["a function", [1, () => 1], /argument 1 is a function/],
    ["a symbol", [Symbol("s")], /argument 0 is a symbol Symbol\(s\)/],
    ["a class instance", [new User(1)], /argument 0 is a User instance/],
    ["a nested class instance", [{ user: { friends: [new User(2)] } }], /argument 0\.user\.friends\[0\] is a User instance/],
    ["an Array subclass", [MyArray.from([1])], /argument 0 is a MyArray instance/],
    ["a cycle", [cyclic], /argument 0\.self is a object.*cycle|argument 0\.self is a .*cycle/],
    ["a symbol key", [{ [Symbol("k")]: 1 }], /symbol key/],
    ["a Promise", [Promise.resolve(1)], /Promise instance/],
    ["a WeakMap", [new WeakMap()], /WeakMap instance/],
  ];
  it.each(cases)("%s raises a TypeError naming the position and type", (_label, args, message) => {
    let thrown: unknown;
    try {
      encodeArguments(args, "fetchUser");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toBeInstanceOf(UnsupportedArgumentError);
    expect(thrown).toBeInstanceOf(MimicError);
    expect((thrown as UnsupportedArgumentError).code).toBe("MIMIC_UNSUPPORTED_ARGUMENT");
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).toContain('"fetchUser"');
    expect((thrown as Error).message).toContain("key: (...args)");
  });
});

describe("shortenKey", () => {
  it("keeps short keys and the namespace of long ones", () => {
    expect(shortenKey("m1:s:f::-|A1:d1;", 100)).toBe("m1:s:f::-|A1:d1;");
    const long = shortenKey(`m1:s:f::-|A1:s1000:${"x".repeat(1000)}`, 100);
    expect(long).toMatch(/^m1:s:f::-\|#[0-9a-f]{64}$/);
    expect(shortenKey(`m1:s:f::-|A1:s1000:${"y".repeat(1000)}`, 100)).not.toBe(long);
  });
});

describe("lone arguments", () => {
  it.each([0, 1, -1.5, 1e21, NaN, Infinity, -Infinity, "", "a|b:c", "😀", true, false, null, undefined, 10n, -5n])(
    "%p decodes back to itself",
    (value) => {
      const decoded = decodePrimitiveArguments(encodeArguments([value]), 1);
      expect(decoded).toHaveLength(1);
      expect(Object.is(decoded![0], value)).toBe(true);
    },
  );
  it.each(["A1:d-0;", "A1:d01;", "A2:d1;d2;", "A1:s2:a", "A1:b1.5;", "A1:o0:", `A1:s300:${"x".repeat(300)}`])(
    "%p is not a lone keyable argument",
    (argumentsPart) => {
      expect(decodePrimitiveArguments(argumentsPart, 1)).toBeUndefined();
    },
  );
  it("the inlinable fast check accepts a subset of what isLoneKeyable accepts", () => {
    const candidates = fc.oneof(
      fc.double(),
      fc.constantFrom<unknown>(0, -0, NaN, Infinity, -Infinity, "", "x".repeat(256), "x".repeat(257), null, undefined, true, 1n),
      fc.string({ maxLength: 300 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(candidates, (value) => {
        if (isFastKeyable(value)) expect(isLoneKeyable(value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(isFastKeyable(-0)).toBe(false);
    expect(isFastKeyable("x".repeat(257))).toBe(false);
    expect(isFastKeyable(1)).toBe(true);
  });
  it("rejects -0 and long strings as lone keys", () => {
    expect(isLoneKeyable(-0)).toBe(false);
    expect(isLoneKeyable("x".repeat(257))).toBe(false);
    expect(isLoneKeyable({})).toBe(false);
  });
});

describe("nothing is silently lossy: everything that changes behaviour is in the key", () => {
  const withProps = <T extends object>(target: T, props: Record<string, unknown>): T => Object.assign(target, props);
  const strictArguments = function () {
    "use strict";
    // eslint-disable-next-line prefer-rest-params
    return arguments;
  } as (...args: unknown[]) => IArguments;
  const sticky = (lastIndex: number, flags = "y"): RegExp => {
    const re = new RegExp("a", flags);
    re.lastIndex = lastIndex;
    return re;
  };
  const pairs: Array<[string, unknown[], unknown[]]> = [
    ['"xxb".match(/b/) vs "b".match(/b/) (index, input)', ["xxb".match(/b/)], ["b".match(/b/)]],
    ["a match result vs the plain array of its elements", ["b".match(/b/)], [["b"]]],
    ["an array with an extra property vs without", [withProps([1], { x: 1 })], [[1]]],
    ["extra properties by value", [withProps([1], { x: 1 })], [withProps([1], { x: 2 })]],
    ["a sparse array with an extra property vs a dense one", [withProps([, 1], { x: 1 })], [withProps([undefined, 1], { x: 1 })]],
    ["a Date with an extra property", [withProps(new Date(0), { tz: "UTC" })], [new Date(0)]],
    ["a Map with an extra property", [withProps(new Map([[1, 2]]), { x: 1 })], [new Map([[1, 2]])]],
    ["a Set with an extra property", [withProps(new Set([1]), { x: 1 })], [new Set([1])]],
    ["a RegExp with an extra property", [withProps(/a/, { x: 1 })], [/a/]],
    ["an ArrayBuffer with an extra property", [withProps(new ArrayBuffer(1), { x: 1 })], [new ArrayBuffer(1)]],
    ["a DataView with an extra property", [withProps(new DataView(new ArrayBuffer(1)), { x: 1 })], [new DataView(new ArrayBuffer(1))]],
    ["a sticky RegExp's lastIndex", [sticky(1)], [sticky(0)]],
    ["a global RegExp's lastIndex", [sticky(3, "g")], [sticky(0, "g")]],
    ["a RegExp with lastIndex vs the RegExp and the number", [sticky(5)], [/a/y, 5]],
    ["an arguments object vs {0:1,1:2}", [strictArguments(1, 2)], [{ 0: 1, 1: 2 }]],
    ["an arguments object vs the array of its items", [strictArguments(1, 2)], [[1, 2]]],
    ["arguments objects by content", [strictArguments(1, 2)], [strictArguments(1, 3)]],
    ["an arguments object whose length was changed", [strictArguments(1, 2)], [withProps(strictArguments(1, 2), { length: 1 })]],
    ["{ a: undefined } vs {}", [{ a: undefined }], [{}]],
    ["[,] vs [undefined]", [[,]], [[undefined]]],
  ];
  it.each(pairs)("%s", (_label, a, b) => {
    expect(encodeArguments(a)).not.toBe(encodeArguments(b));
  });

  it("keys a match result by its elements and its index, input and groups", () => {
    const memo = (m: RegExpMatchArray | null) => encodeArguments([m]);
    expect(memo("xxb".match(/b/))).toBe(memo("xxb".match(/b/)));
    expect(memo("xxb".match(/(?<g>b)/))).not.toBe(memo("xxb".match(/(b)/)));
  });

  it("a memoized function of a match result returns each result's own index", () => {
    const index = Mime({ state: new MemoryState() })((m: RegExpMatchArray | null) => m?.index);
    expect(index("xxb".match(/b/))).toBe(2);
    expect(index("b".match(/b/))).toBe(0);
    const from = Mime({ state: new MemoryState() })(function from(re: RegExp, text: string) {
      return re.exec(text)?.index;
    });
    const sticky = (lastIndex: number): RegExp => Object.assign(/a/g, { lastIndex });
    expect(from(sticky(0), "aXa")).toBe(0);
    expect(from(sticky(1), "aXa")).toBe(2);
  });

  it("refuses a sloppy-mode arguments object, whose callee is the function itself", () => {
    const sloppyArguments = new Function("return arguments") as (...args: unknown[]) => IArguments;
    expect(() => encodeArguments([sloppyArguments(1, 2)], "f")).toThrow(UnsupportedArgumentError);
    expect(() => encodeArguments([sloppyArguments(1, 2)], "f")).toThrow(/argument 0 is a sloppy-mode arguments object/);
  });

  it("refuses an array longer than 2^24 elements, naming it, instead of writing a mark per hole for billions of holes", () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    sparse[5] = 1;
    expect(() => encodeArguments([{ list: sparse }], "f")).toThrow(UnsupportedArgumentError);
    expect(() => encodeArguments([{ list: sparse }], "f")).toThrow(/argument 0\.list is a 4294967295-element array, which has no faithful cache key \(a key writes a mark per element, holes included, and holds at most 16777216\)/);
    const f = Mime({ state: new MemoryState() })((list: unknown[]) => list.length);
    expect(() => f(sparse)).toThrow(UnsupportedArgumentError);
    const longest: unknown[] = [];
    longest.length = 2 ** 24;
    expect(encodeArguments([longest], "f")).toBe(`A1:a${2 ** 24}:${"h".repeat(2 ** 24)}`);
  });

  it("tells an arguments object from a plain object even with its callee, length and iterator deleted", () => {
    const stripped = new Function(
      "extra",
      "delete arguments.callee; delete arguments.length; delete arguments[Symbol.iterator]; if (extra) arguments.foo = 1; return arguments;",
    ) as (...args: unknown[]) => IArguments;
    const strippedStrict = new Function(
      "extra",
      '"use strict"; delete arguments[Symbol.iterator]; if (extra) arguments.foo = 1; return arguments;',
    ) as (...args: unknown[]) => IArguments;
    const cache = new ObjectKeyCache();
    for (const args of [stripped(1), stripped(0), stripped()]) {
      expect(() => encodeArguments([args], "f")).toThrow(/sloppy-mode arguments object/);
      expect(cache.argumentsKey(args)).toBeUndefined();
    }
    for (const args of [strippedStrict(1), strippedStrict(0)]) {
      const key = encodeArguments([args], "f");
      expect(key).not.toBe(encodeArguments([{ ...args }], "f"));
      expect(cache.argumentsKey(args)).toBeUndefined();
    }
  });
});

describe("a primitive `this`", () => {
  it("is a key part of its own, apart from the arguments and from other primitives", () => {
    const parts = ["hello", "bye", 1, "1", true, null, 1n].map((value) => encodeThisArgument(value));
    expect(new Set(parts).size).toBe(parts.length);
    expect(encodeThisArgument("hello")).toBe("ts5:hello");
    expect(encodeThisArgument(undefined)).toBe("");
    expect(encodeThisArgument("hello") + encodeArguments([])).not.toBe(encodeArguments(["hello"]));
  });
  it("refuses a symbol, naming `this`", () => {
    expect(() => encodeThisArgument(Symbol("s"), "shout")).toThrow(UnsupportedArgumentError);
    expect(() => encodeThisArgument(Symbol("s"), "shout")).toThrow(/"shout" `this` is a symbol/);
  });
});

describe("deep nesting never overflows the stack", () => {
  const nest = (depth: number, wrap: (inner: unknown) => unknown): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = wrap(value);
    return value;
  };
  const shapes: Array<[string, (inner: unknown) => unknown, string]> = [
    ["arrays", (inner) => [inner], "a1:"],
    ["plain objects", (inner) => ({ k: inner }), "o1:s1:k"],
    ["Maps (as values)", (inner) => new Map([["k", inner]]), "M1:s1:k"],
    ["Sets", (inner) => new Set([inner]), "S1:"],
    ["arrays with an extra property", (inner) => Object.assign([inner], { x: 0 }), "P1:s1:xd0;a1:"],
  ];
  it.each(shapes.flatMap(([label, wrap, head]) => [5_000, 100_000].map((depth) => [label, depth, wrap, head] as const)))(
    "%s nested %i deep encode to the exact key",
    (_label, depth, wrap, head) => {
      const expected = `A1:${head.repeat(depth)}d1;`;
      expect(encodeArguments([nest(depth, wrap)])).toBe(expected);
      expect(encodeCustomKey(nest(depth, wrap))).toBe(`K${expected.slice(3)}`);
    },
  );
  it("keys Maps nested as Map keys 5,000 deep", () => {
    expect(encodeArguments([nest(5_000, (inner) => new Map([[inner, 0]]))])).toBe(`A1:${"M1:".repeat(5_000)}d1;${"d0;".repeat(5_000)}`);
  });
  it("tells depth 100,000 from 100,001", () => {
    expect(encodeArguments([nest(100_000, (inner) => [inner])])).not.toBe(encodeArguments([nest(100_001, (inner) => [inner])]));
  });
  it("a memoized function of a 100,000-deep argument runs once and then hits", () => {
    let runs = 0;
    const depthOf = Mime({ state: new MemoryState() })((value: unknown) => {
      runs++;
      let depth = 0;
      for (let v = value; Array.isArray(v); v = v[0]) depth++;
      return depth;
    });
    expect(depthOf(nest(100_000, (inner) => [inner]))).toBe(100_000);
    expect(depthOf(nest(100_000, (inner) => [inner]))).toBe(100_000);
    expect(runs).toBe(1);
  });
  it("still refuses a cycle 10,000 deep, naming the argument", () => {
    const top: unknown[] = [];
    let bottom = top;
    for (let i = 0; i < 10_000; i++) {
      const next: unknown[] = [];
      bottom.push(next);
      bottom = next;
    }
    bottom.push(top);
    expect(() => encodeArguments([0, top], "deep")).toThrow(UnsupportedArgumentError);
    expect(() => encodeArguments([0, top], "deep")).toThrow(/"deep" argument 1(\[0\]){11}…9978 more levels…(\[0\]){12} is a array, .*a cycle/);
  });
});

describe("proxies and look-alikes of built-ins", () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ["a Proxy of a Date", new Proxy(new Date(0), {}), /argument 1 is a Proxy of a Date instance/],
    ["a Proxy of a Map", new Proxy(new Map([[1, 2]]), {}), /argument 1 is a Proxy of a Map instance/],
    ["a Proxy of a Set", new Proxy(new Set([1]), {}), /argument 1 is a Proxy of a Set instance/],
    ["a Proxy of a RegExp", new Proxy(/a/g, {}), /argument 1 is a Proxy of a RegExp instance/],
    ["a Proxy of a Uint8Array", new Proxy(new Uint8Array([1]), {}), /argument 1 is a Proxy of a Uint8Array instance/],
    ["a Proxy of a Buffer", new Proxy(Buffer.from([1]), {}), /argument 1 is a Proxy of a Buffer instance/],
    ["a Proxy of an ArrayBuffer", new Proxy(new ArrayBuffer(1), {}), /argument 1 is a Proxy of a ArrayBuffer instance/],
    ["a Proxy of a DataView", new Proxy(new DataView(new ArrayBuffer(1)), {}), /argument 1 is a Proxy of a DataView instance/],
    ["a nested Proxy of a Date", { when: new Proxy(new Date(0), {}) }, /argument 1\.when is a Proxy of a Date instance/],
    ["an object inheriting from Date.prototype", Object.create(Date.prototype) as object, /argument 1 is a Date instance.*not a Date/],
    ["an object inheriting from Map.prototype", Object.create(Map.prototype) as object, /argument 1 is a Map instance.*not a Map/],
    ["an object inheriting from Uint8Array.prototype", Object.create(Uint8Array.prototype) as object, /argument 1 is a Uint8Array instance.*not a Uint8Array/],
    ["a revoked Proxy", (() => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy; })(), /argument 1 is a revoked Proxy/],
  ];
  it.each(refused)("%s is an UnsupportedArgumentError naming the argument and type, not a raw TypeError", (_label, value, message) => {
    let thrown: unknown;
    try {
      encodeArguments([0, value], "f");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsupportedArgumentError);
    expect((thrown as Error).message).toMatch(message);
  });

  it("the memoized call reports it the same way, without running the function", () => {
    let runs = 0;
    const memo = Mime({ state: new MemoryState() })((when: Date) => {
      runs++;
      return when;
    });
    expect(() => memo(new Proxy(new Date(0), {}))).toThrow(UnsupportedArgumentError);
    expect(runs).toBe(0);
  });

  it("keys a Proxy of a plain object or an array through its traps, as the function would see it", () => {
    expect(encodeArguments([new Proxy({ b: 2, a: 1 }, {})])).toBe(encodeArguments([{ a: 1, b: 2 }]));
    expect(encodeArguments([new Proxy([1, , 3], {})])).toBe(encodeArguments([[1, , 3]]));
    const doubled = new Proxy({ a: 1 } as Record<string, number>, { get: (target, key: string) => target[key]! * 2 });
    expect(encodeArguments([doubled])).toBe(encodeArguments([{ a: 2 }]));
  });
});

describe("the fast encoder writes exactly what the careful one writes", () => {
  const careful = (value: unknown): string => `A1:${new Encoder("test").encodeAt("argument 0", value)}`;

  it("for generated values (objects of many shapes, arrays with holes, dates, nested)", () => {
    const key = fc.constantFrom("a", "b", "c", "0", "1", "10", "", "é", "__proto__x", "callee", "length");
    const leaf = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constantFrom(null, undefined, -0), fc.bigInt(), fc.date({ noInvalidDate: false }));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
      array: fc.oneof(fc.array(tie("value"), { maxLength: 4 }), fc.sparseArray(tie("value"), { maxLength: 4 })),
      object: fc.oneof(
        fc.dictionary(key, tie("value"), { maxKeys: 5 }),
        fc.dictionary(key, tie("value"), { maxKeys: 3 }).map((o) => Object.assign(Object.create(null) as object, o)),
      ),
    }));
    fc.assert(
      fc.property(value, (v) => {
        expect(encodeArguments([v])).toBe(careful(v));
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps shapes apart: same first key, other keys, other insertion orders, past the cache's bounds", () => {
    const objects: object[] = [];
    for (let i = 0; i < 3000; i++) {
      objects.push({ a: i, [`k${i % 1500}`]: 1 }, { [`k${i % 1500}`]: 1, a: i }, { a: i, b: 2, [`z${i % 20}`]: 3 });
    }
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`w${99 - i}`, i]));
    objects.push(wide, { ...wide, extra: 1 });
    for (const round of [1, 2]) {
      for (const object of objects) expect([round, encodeArguments([object])]).toEqual([round, careful(object)]);
    }
    expect(encodeArguments([{ a: 1, b: 2 }])).toBe(encodeArguments([{ b: 2, a: 1 }]));
    expect(encodeArguments([{ a: 1, b: 2 }])).not.toBe(encodeArguments([{ a: 1, c: 2 }]));
  });

  it("still hands arguments objects, symbol keys and extra properties to the careful encoder", () => {
    const strict = function () {
      "use strict";
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    } as (...args: unknown[]) => IArguments;
    const named = strict(1);
    delete (named as unknown as Record<string, unknown>)[0];
    (named as unknown as Record<string, unknown>).x = 1;
    expect(encodeArguments([named])).toBe("A1:Ld1;o1:s1:xd1;");
    expect(encodeArguments([{ x: 1 }])).toBe("A1:o1:s1:xd1;");
    expect(() => encodeArguments([{ x: 1, [Symbol("s")]: 2 }])).toThrow(/symbol key/);
    expect(encodeArguments([[{ a: 1 }, Object.assign([1], { x: 1 })]])).toBe("A1:a2:o1:s1:ad1;P1:s1:xd1;a1:d1;");
  });

  it("writes a well-formed key for an array that an element's getter shortens while it is encoded", () => {
    // Element 0's getter cuts the array to one element. The fast encoder read it as two elements and
    // had written one: it hands the array to the careful encoder, which keys it as it now is (the
    // array the function is called with), not with a mark missing.
    const shrinking = (): unknown[] => {
      const array: unknown[] = [0, 1];
      Object.defineProperty(array, 0, {
        enumerable: true,
        get() {
          array.length = 1;
          return 0;
        },
      });
      return array;
    };
    const array = shrinking();
    expect(encodeArguments([array])).toBe("A1:a1:d0;");
    expect(encodeArguments([array])).toBe(careful(array));
    expect(encodeArguments([{ list: shrinking(), n: 5 }])).toBe("A1:o2:s4:lista1:d0;s1:nd5;");
    // Read once, from the start, by the careful encoder alone: the removed element is a hole.
    expect(careful(shrinking())).toBe("A1:a2:d0;h");
  });
});
