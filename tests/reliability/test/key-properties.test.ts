import fc from "fast-check";
import { encodeArguments, MemoryState, Mime, UnsupportedArgumentError } from "@mimic/core";
import { recordFigures } from "./support/figures";
import { argumentList, confusables, equalByValue, mutateArguments, rebuild, shuffler, value } from "./support/values";

// Item 5 of the reliability issue, key derivation: for generated argument lists, equal by value ⇒
// same key, different ⇒ different key (the type-confusable pairs included), and a value with no
// faithful key ⇒ a TypeError naming its position. Checked on core's encoder (`encodeArguments`) and
// on what a wrapper really uses (`Mime(...)(fn).key(...)`), 10,000 runs each.

const RUNS = 10_000;
const runs = { numRuns: RUNS };

const state = new MemoryState({ maxEntries: 100 });
const probe = Mime({ state })(function probe(...args: unknown[]): unknown[] {
  return args;
});
/** The key a wrapper uses for a call, and core's argument encoding of it. */
function keys(args: readonly unknown[]): { wrapper: string; encoded: string } {
  return { wrapper: probe.key(...args), encoded: encodeArguments(args) };
}

const figures: Record<string, number> = {};

/** A plain check for the property bodies: jest's matchers cost more than the code under test. */
function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}
const show = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Map || v instanceof Set ? [v.constructor.name, ...v] : v));
  } catch {
    return String(value);
  }
};
afterAll(() => recordFigures("key-properties", { runsPerProperty: RUNS, ...figures }));

it("equal by value ⇒ same key: objects with reordered keys, Maps and Sets in other orders, fresh copies of dates, buffers and views", () => {
  let reordered = 0;
  fc.assert(
    fc.property(argumentList, fc.integer(), (args, seed) => {
      const copy = rebuild(args, shuffler(seed)) as unknown[];
      check(equalByValue(args, copy), () => `the oracle says the rebuilt ${show(copy)} differs from ${show(args)}`);
      const a = keys(args);
      const b = keys(copy);
      check(b.encoded === a.encoded, () => `encodeArguments: ${a.encoded} vs ${b.encoded}`);
      check(b.wrapper === a.wrapper, () => `key(): ${a.wrapper} vs ${b.wrapper}`);
      if (JSON.stringify(Object.keys(Object(copy[0]))) !== JSON.stringify(Object.keys(Object(args[0])))) reordered++;
    }),
    runs,
  );
  figures.equalRunsWithReorderedFirstArgument = reordered;
  expect(reordered).toBeGreaterThan(50);
});

it("different by value ⇔ different key, for independent, nearly identical and rebuilt argument lists; a memoized call hits exactly when the lists are equal", () => {
  let equalPairs = 0;
  let differentPairs = 0;
  let executions = 0;
  const memo = Mime({ state: new MemoryState() })((..._args: unknown[]) => ++executions);
  const pairs = fc.oneof(
    fc.tuple(argumentList, argumentList),
    fc.tuple(argumentList, value, fc.nat()).map(([args, replacement, pick]) => [args, mutateArguments(args, replacement, pick)] as const),
    fc.tuple(argumentList, fc.integer()).map(([args, seed]) => [args, rebuild(args, shuffler(seed)) as unknown[]] as const),
  );
  fc.assert(
    fc.property(pairs, ([a, b]) => {
      const equal = equalByValue(a, b);
      if (equal) equalPairs++;
      else differentPairs++;
      const ka = keys(a);
      const kb = keys(b);
      const verdict = equal ? "equal" : "different";
      check((ka.encoded === kb.encoded) === equal, () => `${verdict} lists ${show(a)} and ${show(b)}: encodeArguments ${ka.encoded} vs ${kb.encoded}`);
      check((ka.wrapper === kb.wrapper) === equal, () => `${verdict} lists ${show(a)} and ${show(b)}: key() ${ka.wrapper} vs ${kb.wrapper}`);
      // What a call really does (a lone primitive is looked up by its own value, not by its key):
      // the second call is a hit exactly when the lists are equal.
      const before = executions;
      memo(...a);
      memo(...b);
      check(executions - before === (equal ? 1 : 2), () => `${verdict} lists ${show(a)} and ${show(b)}: ${executions - before} executions`);
      memo.invalidate(...a);
      memo.invalidate(...b);
    }),
    runs,
  );
  figures.equalPairs = equalPairs;
  figures.differentPairs = differentPairs;
  // Both sides of the equivalence were exercised, many times.
  expect(equalPairs).toBeGreaterThan(1000);
  expect(differentPairs).toBeGreaterThan(1000);
});

it("type-confusable values never share a key: 1 vs '1' vs 1n vs [1] vs Set, Buffer vs Uint8Array, f(12) vs f(1, 2), undefined vs missing vs null…", () => {
  const pool = confusables();
  // The pool has no two values equal by value, so any two distinct picks must have distinct keys.
  for (let i = 0; i < pool.length; i++) {
    for (let j = i + 1; j < pool.length; j++) {
      if (equalByValue(pool[i], pool[j])) throw new Error(`confusables ${i} and ${j} are equal by value`);
    }
  }
  const list = fc.array(fc.nat({ max: pool.length - 1 }), { maxLength: 3 });
  let collisionsChecked = 0;
  fc.assert(
    fc.property(list, list, (x, y) => {
      const a = x.map((i) => pool[i]);
      const b = y.map((i) => pool[i]);
      const equal = x.length === y.length && x.every((i, n) => i === y[n]);
      check(equalByValue(a, b) === equal, () => `oracle disagrees on picks ${show(x)} and ${show(y)}`);
      const ka = keys(a);
      const kb = keys(b);
      check((ka.encoded === kb.encoded) === equal, () => `picks ${show(x)} and ${show(y)}: encodeArguments ${ka.encoded} vs ${kb.encoded}`);
      check((ka.wrapper === kb.wrapper) === equal, () => `picks ${show(x)} and ${show(y)}: key() ${ka.wrapper} vs ${kb.wrapper}`);
      collisionsChecked++;
    }),
    runs,
  );
  figures.confusablePool = pool.length;
  figures.confusablePairsChecked = collisionsChecked;
  // The pairs the design lists, by name.
  const distinct: Array<[unknown[], unknown[]]> = [
    [[12], [1, 2]],
    [[1], ["1"]],
    [[[1]], ["1"]],
    [[undefined], []],
    [[undefined], [null]],
    [[{ a: undefined }], [{}]],
    [[[, 1]], [[undefined, 1]]],
    [[new Date(5)], [5]],
    [[Buffer.from([1, 2])], [new Uint8Array([1, 2])]],
    [[1n], [1]],
    [["a", "b"], ["a,b"]],
    [["s1:a"], ["a"]],
  ];
  for (const [a, b] of distinct) expect(keys(a).encoded).not.toBe(keys(b).encoded);
  expect(keys([{ a: 1, b: 2 }]).encoded).toBe(keys([{ b: 2, a: 1 }]).encoded);
});

/** Values with no faithful key, with the words the error must use for them. */
class Account {
  constructor(readonly id: number) {}
}
const unsupported: Array<{ make: () => unknown; names: RegExp }> = [
  { make: () => function handler() {}, names: /function handler/ },
  { make: () => () => 1, names: /function/ },
  { make: () => Symbol("token"), names: /symbol Symbol\(token\)/ },
  { make: () => new Account(1), names: /Account instance/ },
  { make: () => Promise.resolve(1), names: /Promise instance/ },
  { make: () => new WeakMap(), names: /WeakMap instance/ },
  { make: () => new Error("x"), names: /Error instance/ },
  {
    make: () => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      return cycle;
    },
    names: /cycle/,
  },
  {
    make: () => {
      const cycle: unknown[] = [1];
      cycle.push([cycle]);
      return cycle;
    },
    names: /cycle/,
  },
  { make: () => ({ [Symbol("hidden")]: 1 }), names: /symbol key/ },
  { make: () => new Proxy(new Date(0), {}), names: /Proxy of a Date instance/ },
  { make: () => new Proxy(new Map([[1, 2]]), {}), names: /Proxy of a Map instance/ },
  { make: () => (new Function("return arguments") as (...args: unknown[]) => IArguments)(1, 2), names: /sloppy-mode arguments object/ },
];

/** Puts `inner` inside `depth` containers (array, object, Map value, Set item, Map key). */
function nest(inner: unknown, path: number[]): unknown {
  return path.reduceRight<unknown>((wrapped, kind) => {
    switch (kind % 5) {
      case 0:
        return [1, wrapped];
      case 1:
        return { b: 2, a: wrapped };
      case 2:
        return new Map([["k", wrapped]]);
      case 3:
        return new Set([1, wrapped]);
      default:
        return new Map([[wrapped, 1]]);
    }
  }, inner);
}

it("a value with no faithful key ⇒ UnsupportedArgumentError (a TypeError) naming the argument position and the type; the function is not called", async () => {
  let calls = 0;
  const syncTarget = Mime({ state })(function target(...args: unknown[]) {
    calls++;
    return args.length;
  });
  const asyncTarget = Mime({ state })(async function target(...args: unknown[]) {
    calls++;
    return args.length;
  });
  const rejected: Array<Promise<void>> = [];
  fc.assert(
    fc.property(
      argumentList,
      fc.nat(),
      fc.nat({ max: unsupported.length - 1 }),
      fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
      (args, at, which, path) => {
        const position = at % (args.length + 1);
        const { make, names } = unsupported[which]!;
        const bad = nest(make(), path);
        const list = [...args.slice(0, position), bad, ...args.slice(position)];
        const naming = new RegExp(`argument ${position}(?![0-9])`);
        const checkError = (thrown: unknown, by: string): void => {
          check(thrown instanceof UnsupportedArgumentError && thrown instanceof TypeError, () => `${by} threw ${String(thrown)} for ${show(list)}`);
          const { message } = thrown as Error;
          check(naming.test(message), () => `${by}: the message does not name argument ${position}: ${message}`);
          check(names.test(message), () => `${by}: the message does not match ${String(names)}: ${message}`);
        };
        for (const [by, attempt] of [
          ["encodeArguments", () => encodeArguments(list)],
          ["key()", () => probe.key(...list)],
          ["the sync wrapper", () => syncTarget(...list)],
        ] as const) {
          let thrown: unknown;
          try {
            attempt();
          } catch (error) {
            thrown = error;
          }
          checkError(thrown, by);
        }
        rejected.push(
          asyncTarget(...list).then(
            () => check(false, () => `the async wrapper accepted ${show(list)}`),
            (error: unknown) => checkError(error, "the async wrapper"),
          ),
        );
      },
    ),
    runs,
  );
  await Promise.all(rejected);
  expect(calls).toBe(0);
});
