import fc from "fast-check";
import { encodeArguments, MemoryState, Mime } from "../src/index";
import { ObjectKeyCache } from "../src/keys/object-key-cache";

let keyed = 0;

/** Whatever the cache answers for `value` must be the encoder's key, or nothing (the encoder's turn). */
function expectEncoderKey(cache: ObjectKeyCache, value: object): void {
  const key = cache.argumentsKey(value);
  if (key !== undefined) {
    keyed++;
    expect(key).toBe(encodeArguments([value]));
  }
}

/** A copy built apart (jest's `structuredClone` builds objects of another realm, which the cache leaves alone). */
function rebuilt(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    value.forEach((item, i) => (copy[i] = rebuilt(item)));
    return copy;
  }
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const key of Object.keys(value).reverse()) copy[key] = rebuilt((value as Record<string, unknown>)[key]);
  return copy;
}

function withExtra<T extends object>(target: T, extra: (target: T) => void): T {
  extra(target);
  return target;
}

const leaf = fc.oneof(
  fc.constantFrom<unknown>(0, -0, NaN, Infinity, -Infinity, 1, "1", "", true, false, null, undefined, 1n, -1n, 0.1, 2 ** 31, -(2 ** 31) - 1),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("x".repeat(256), "a".repeat(33) + "b", "a".repeat(33) + "c"),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
);

const { value: nested } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.sparseArray(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "1", "0", "10", "__proto__x", ""), tie("value"), { maxKeys: 5 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie("value"), { maxKeys: 4, noNullPrototype: false }),
  ),
}));

describe("ObjectKeyCache: the key of a call with one object argument", () => {
  it("is the encoder's key for any nested value, first seen, seen again, and rebuilt equal (keys in reverse order)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(nested, { maxLength: 6 }), fc.dictionary(fc.string({ maxLength: 4 }), nested, { maxKeys: 6 })), (value) => {
        const cache = new ObjectKeyCache();
        expectEncoderKey(cache, value);
        expectEncoderKey(cache, value);
        expectEncoderKey(cache, rebuilt(value) as object);
      }),
      { numRuns: 3000 },
    );
    // Most of them are the cache's to key (the rest have a string over 256 characters, or too many tokens).
    expect(keyed).toBeGreaterThan(3 * 3000 * 0.7);
  });

  it("tells apart the values the key format tells apart", () => {
    const cache = new ObjectKeyCache();
    const distinct: object[] = [
      { a: 0 },
      { a: -0 },
      { a: NaN },
      { a: "0" },
      { a: 0n },
      { a: false },
      { a: null },
      { a: undefined },
      {},
      { a: [] },
      { a: {} },
      { a: [undefined] },
      { a: [,] }, // eslint-disable-line no-sparse-arrays
      { a: new Date(0) },
      { a: new Date(NaN) },
      { a: 0, b: 0 },
      { ab: 0 },
      [0],
      [-0],
      [[0]],
      [{}],
      [[]],
      ["o0:"],
      [new Date(0)],
      new Date(0),
      Object.assign(Object.create(null) as object, { a: 0 }),
    ];
    const keys = distinct.map((value) => cache.argumentsKey(value));
    // Every one of them is the cache's to key (the case worth testing), and the keys are all different.
    expect(keys.every((key) => key !== undefined)).toBe(true);
    expect(new Set(keys).size).toBe(distinct.length - 1);
    distinct.forEach((value, i) => expect(keys[i]).toBe(encodeArguments([value])));
    // A null-prototype object and a plain one with the same keys and values key alike, as encoded.
    expect(keys[0]).toBe(keys[keys.length - 1]);
  });

  it("keys reordered keys alike and each read by its current values (a mutated argument is a new key)", () => {
    const cache = new ObjectKeyCache();
    const query = { page: 1, sort: { field: "name", dir: "asc" } };
    const first = cache.argumentsKey(query);
    expect(cache.argumentsKey({ sort: { dir: "asc", field: "name" }, page: 1 })).toBe(first);
    query.page = 2;
    expect(cache.argumentsKey(query)).toBe(encodeArguments([query]));
    expect(cache.argumentsKey(query)).not.toBe(first);
    query.sort.dir = "desc";
    expect(cache.argumentsKey(query)).toBe(encodeArguments([query]));
  });

  it("leaves to the encoder what it writes with its careful half", () => {
    const cache = new ObjectKeyCache();
    const symbolKeyed = { a: 1, [Symbol("s")]: 2 };
    const arrayWithProperty = withExtra([1, 2], (array) => Object.assign(array, { extra: 1 }));
    const dateWithProperty = withExtra(new Date(0), (date) => Object.assign(date, { extra: 1 }));
    const args = (function (..._: unknown[]) {
      return arguments; // eslint-disable-line prefer-rest-params
    })(1, 2);
    const nonPlain = [
      symbolKeyed,
      arrayWithProperty,
      dateWithProperty,
      args,
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array([1]),
      /x/g,
      new (class Point {
        x = 1;
      })(),
      { fn: () => 1 },
      { s: Symbol("s") },
      { long: "x".repeat(257) },
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])),
      Array.from({ length: 300 }, (_, i) => i),
    ];
    for (const value of nonPlain) expect(cache.argumentsKey(value)).toBeUndefined();
    // Deep nesting (where a cycle may be) goes to the encoder too, and a cycle never loops here.
    let deep: object = {};
    for (let i = 0; i < 40; i++) deep = { deep };
    expect(cache.argumentsKey(deep)).toBeUndefined();
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(cache.argumentsKey(cycle)).toBeUndefined();
  });

  it("never throws: a throwing getter or Proxy trap is the encoder's to report", () => {
    const cache = new ObjectKeyCache();
    const throwing = {
      get a(): number {
        throw new Error("getter");
      },
    };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(cache.argumentsKey(throwing)).toBeUndefined();
    expect(cache.argumentsKey(revoked.proxy)).toBeUndefined();
    expect(cache.argumentsKey({ a: 1 })).toBe(encodeArguments([{ a: 1 }]));
  });

  it("keys a getter by the value it gave this read, and a getter that calls another memoized function", () => {
    const cache = new ObjectKeyCache();
    const inner = Mime({ state: new MemoryState() })((options: { n: number }) => options.n * 2);
    let reads = 0;
    const argument = {
      get n(): number {
        reads++;
        return inner({ n: reads });
      },
    };
    const key = cache.argumentsKey(argument);
    expect(key).toBe(`A1:o1:s1:nd${2 * reads};`);
  });

  it("stays right past its bounds: many shapes (the shape cache clears) and many records per function", () => {
    const cache = new ObjectKeyCache();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2500; i++) {
        const value = { [`key${i}`]: i, shared: round, [`z${i % 7}`]: [i] };
        expectEncoderKey(cache, value);
      }
    }
  });
});

describe("ObjectKeyCache against arguments that change or lie while they are read", () => {
  it("leaves an array whose length is not a plain number to the encoder (a Proxy's length trap)", () => {
    const cache = new ObjectKeyCache();
    let label = "0";
    const length = { valueOf: () => 0, toString: () => label };
    const proxy = new Proxy([], { get: (target, key, receiver) => (key === "length" ? length : Reflect.get(target, key, receiver)) });
    expect(cache.argumentsKey(proxy)).toBeUndefined();
    label = "7";
    expect(cache.argumentsKey(proxy)).toBeUndefined();
    const fractional = new Proxy([1, 2], { get: (target, key, receiver) => (key === "length" ? 1.5 : Reflect.get(target, key, receiver)) });
    expect(cache.argumentsKey(fractional)).toBeUndefined();
  });

  it("never runs user code while it builds a key, so a re-entering call cannot corrupt another argument's record", () => {
    let f: (arg: object) => string = () => "";
    const inner = (): object => ({ other: "zzz", n: [1, 2, 3] });
    const length = {
      valueOf: () => 1,
      toString: () => {
        f(inner());
        return "1";
      },
    };
    const proxy = new Proxy(["x"], { get: (target, key, receiver) => (key === "length" ? length : Reflect.get(target, key, receiver)) });
    f = Mime({ state: new MemoryState() })((arg: object) => `computed for ${encodeArguments([arg])}`);
    f({ warm: 1 });
    for (const probe of [[undefined], [1], ["zzz"], [null], [[1, 2, 3]], [{}]]) f(probe);
    try {
      f(proxy);
    } catch {
      // The encoder may refuse the proxy; what matters is the next call.
    }
    expect(f(inner())).toBe(`computed for ${encodeArguments([inner()])}`);
  });

  it("keys a Date by what its getTime gives, as the encoder does (-0 as 0, a non-number left to the encoder)", () => {
    const cache = new ObjectKeyCache();
    const withTime = (time: unknown): Date => Object.defineProperty(new Date(0), "getTime", { value: () => time });
    const negativeZero = withTime(-0);
    expect(cache.argumentsKey(withTime({}))).toBeUndefined();
    expect(cache.argumentsKey(negativeZero)).toBe(encodeArguments([negativeZero]));
    expect(cache.argumentsKey(negativeZero)).toBe(encodeArguments([new Date(0)]));
    expect(cache.argumentsKey(withTime(Infinity))).toBe(encodeArguments([withTime(Infinity)]));
  });

  it("leaves to the encoder an array that an element's getter shortens or lengthens", () => {
    const cache = new ObjectKeyCache();
    const shortening = (): unknown[] => {
      const array: unknown[] = [undefined, 5];
      Object.defineProperty(array, 0, {
        get() {
          array.length = 1;
          return 0;
        },
        enumerable: true,
        configurable: true,
      });
      return array;
    };
    const lengthening = (): unknown[] => {
      const array: unknown[] = [undefined];
      Object.defineProperty(array, 0, {
        get() {
          array.push(1);
          return 0;
        },
        enumerable: true,
        configurable: true,
      });
      return array;
    };
    expect(cache.argumentsKey(shortening())).toBeUndefined();
    expect(cache.argumentsKey(lengthening())).toBeUndefined();
    const f = Mime({ state: new MemoryState() })((array: unknown[]) => `length ${array.length}`);
    f({ warm: 1 } as unknown as unknown[]);
    // eslint-disable-next-line no-sparse-arrays
    expect(f([0, ,])).toBe("length 2");
    expect(f(shortening())).toBe("length 1");
  });

  it("keeps no record of a long key (a huge BigInt, long property names): its memory stays bounded by the cache's own limits", () => {
    const cache = new ObjectKeyCache();
    const big = 2n ** 20_000n;
    for (let i = 0; i < 50; i++) expectEncoderKey(cache, { [`k${i}`]: big });
    for (let i = 0; i < 50; i++) expectEncoderKey(cache, { [`${"p".repeat(5_000)}${i}`]: 1 });
    expect(cache.recordCount).toBe(0);
    for (let i = 0; i < 50; i++) expectEncoderKey(cache, { [`k${i}`]: 1n });
    expect(cache.recordCount).toBe(50);
  });
});

describe("Mime with one object argument (the key cache on the hit path)", () => {
  const counted = <A extends object>() => {
    const calls: A[] = [];
    const fn = Mime({ state: new MemoryState() })((arg: A) => {
      calls.push(arg);
      return calls.length;
    });
    return { fn, calls };
  };

  it("hits for equal values in any key order, misses for different ones", () => {
    const { fn, calls } = counted<object>();
    expect(fn({ a: 1, b: [1, 2] })).toBe(1);
    expect(fn({ b: [1, 2], a: 1 })).toBe(1);
    expect(fn({ a: "1", b: [1, 2] })).toBe(2);
    expect(fn({ a: 1, b: [1, 2], c: undefined })).toBe(3);
    expect(fn({ a: -0, b: [1, 2] })).toBe(4);
    expect(fn({ a: 0, b: [1, 2] })).toBe(5);
    expect(fn({ a: 0, b: [1, 2] })).toBe(5);
    expect(fn({ a: -0, b: [1, 2] })).toBe(4);
    expect(calls).toHaveLength(5);
    expect(fn.stats().hits).toBe(3);
  });

  it("sees an invalidation, a clear and an overwrite through the cached key", () => {
    const { fn, calls } = counted<object>();
    const query = { user: 7, filters: { active: true } };
    expect(fn(query)).toBe(1);
    expect(fn({ filters: { active: true }, user: 7 })).toBe(1);
    fn.invalidate({ user: 7, filters: { active: true } });
    expect(fn(query)).toBe(2);
    fn.clear();
    expect(fn(query)).toBe(3);
    expect(fn(query)).toBe(3);
    expect(calls).toHaveLength(3);
  });

  it("reads a mutated argument by its new value", () => {
    const { fn } = counted<{ page: number }>();
    const query = { page: 1 };
    expect(fn(query)).toBe(1);
    query.page = 2;
    expect(fn(query)).toBe(2);
    query.page = 1;
    expect(fn(query)).toBe(1);
  });

  it("reads the argument once per call, hit or miss (its getters run once), sync and async", async () => {
    let reads = 0;
    const make = (id: number) => ({
      get id(): number {
        reads++;
        return id;
      },
    });
    const sync = Mime({ state: new MemoryState() })((arg: { id: number }) => arg.id * 2);
    const asynchronous = Mime({ state: new MemoryState() })(async (arg: { id: number }) => arg.id * 3);
    sync({ id: 0 });
    await asynchronous({ id: 0 });
    for (const [call, expected] of [
      [sync, 2],
      [asynchronous, 3],
    ] as const) {
      reads = 0;
      expect(await call(make(1))).toBe(expected);
      // The miss: once for the key, once by the function itself.
      expect(reads).toBe(2);
      reads = 0;
      expect(await call(make(1))).toBe(expected);
      expect(reads).toBe(1);
    }
  });

  it("an invalidation while an object-argument call is in flight wins: its result is not stored, and later calls run again", async () => {
    let version = 1;
    let release: () => void = () => undefined;
    const fn = Mime({ state: new MemoryState() })(async (query: { id: number }) => {
      const seen = version;
      await new Promise<void>((resolve) => (release = resolve));
      return `${query.id}@v${seen}`;
    });
    const first = fn({ id: 1 });
    await Promise.resolve();
    version = 2;
    await fn.invalidate({ id: 1 });
    release();
    await expect(first).resolves.toBe("1@v1");
    const second = fn({ id: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect(second).resolves.toBe("1@v2");
    await expect(fn({ id: 1 })).resolves.toBe("1@v2");
  });

  it("honours the ttl: an expired entry is not served", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      let runs = 0;
      const fn = Mime({ ttl: 1, state: new MemoryState() })((_query: { q: string }) => ++runs);
      expect(fn({ q: "a" })).toBe(1);
      expect(fn({ q: "a" })).toBe(1);
      jest.advanceTimersByTime(1_100);
      expect(fn({ q: "a" })).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it("reports a throwing getter as before (the call throws the getter's error, nothing cached)", () => {
    const { fn, calls } = counted<object>();
    const throwing = {
      get a(): number {
        throw new Error("getter says no");
      },
    };
    expect(() => fn(throwing)).toThrow("getter says no");
    expect(calls).toHaveLength(0);
  });

  it("keeps async hits on the same entries as the slow path", async () => {
    let runs = 0;
    const fn = Mime({ state: new MemoryState() })(async (query: { id: number }) => {
      runs++;
      return query.id * 10;
    });
    await expect(fn({ id: 3 })).resolves.toBe(30);
    await expect(fn({ id: 3 })).resolves.toBe(30);
    await expect(fn.peek({ id: 3 })).resolves.toEqual({ value: 30 });
    await fn.invalidate({ id: 3 });
    await expect(fn({ id: 3 })).resolves.toBe(30);
    expect(runs).toBe(2);
  });
});
