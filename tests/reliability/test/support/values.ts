import { types } from "node:util";
import fc from "fast-check";

// Arbitrary argument values for the key-derivation properties, an independent equality oracle, and
// helpers that rebuild a value equal by value but built differently (reordered keys, Map and Set
// insertion orders, fresh copies of dates and buffers).

/** Characters that spell pieces of the key encoding, so generated strings can try to forge one. */
const alphabet = ["a", "b", "1", "2", ":", ";", "s", "d", "A", "|", "o", "\u0000", "é", "\ud800", "%"];
const smallString = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 4 });
const objectKey = fc.constantFrom("a", "b", "0", "1", "a:b", "", "s1:a", "constructor");

/** Names of extra properties on arrays, dates and sets (match results have index, input, groups). */
const extraKey = fc.constantFrom("x", "index", "input", "groups", "0");

/** A strict-mode arguments object holding `items`. */
export const strictArguments = function () {
  "use strict";
  // eslint-disable-next-line prefer-rest-params
  return arguments;
} as (...items: unknown[]) => IArguments;

const typedArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array] as const;

/** Leaves: every primitive and every built-in the key format supports, from small domains so that
 * independently generated values are often equal. */
export const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(0, -0, 1, -1, 2, 12, 0.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 1e21, 5e-324),
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noDefaultInfinity: false }),
  smallString,
  fc.boolean(),
  fc.constantFrom<unknown>(undefined, null),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom(-1, 0, 1, NaN).map((t) => new Date(t)),
  fc.uint8Array({ maxLength: 3 }).map((bytes) => Buffer.from(bytes)),
  fc.tuple(fc.constantFrom(...typedArrays), fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 })).map(([Type, items]) => new Type(items)),
  fc.uint8Array({ maxLength: 2 }).map((bytes) => bytes.slice().buffer),
  fc.uint8Array({ maxLength: 2 }).map((bytes) => new DataView(bytes.slice().buffer)),
  fc.constantFrom(/a/, /a/g, /1/),
  // A RegExp's lastIndex decides where a sticky or global match starts: part of the key.
  fc.tuple(fc.constantFrom("a", "1"), fc.constantFrom("g", "y", ""), fc.constantFrom(0, 1, 2)).map(([source, flags, lastIndex]) =>
    Object.assign(new RegExp(source, flags), { lastIndex }),
  ),
  // Match results: the elements plus index, input and groups.
  fc.tuple(fc.constantFrom("b", "xb", "xxb", "bb"), fc.constantFrom(/b/, /(b)/, /(?<g>b)/)).map(([text, re]) => text.match(re)),
  fc.bigInt().map((n) => new BigInt64Array([BigInt.asIntN(64, n)])),
);

/** Nested values: arrays (with holes), plain objects (also with a null prototype), Maps and Sets. */
export const { value } = fc.letrec<{ value: unknown; node: unknown }>((tie) => ({
  value: fc.oneof({ maxDepth: 3, depthIdentifier: "value" }, leaf, tie("node")),
  node: fc.oneof(
    { depthIdentifier: "value" },
    fc.array(tie("value"), { maxLength: 3 }),
    fc.sparseArray(tie("value"), { maxLength: 3 }),
    fc.dictionary(objectKey, tie("value"), { maxKeys: 3 }),
    fc.dictionary(objectKey, tie("value"), { maxKeys: 2 }).map((o) => Object.assign(Object.create(null) as object, o)),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 }).map((entries) => new Map(entries)),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => new Set(items)),
    // Built-ins with extra own properties, and arguments objects (not plain objects).
    fc.tuple(fc.array(tie("value"), { maxLength: 2 }), fc.dictionary(extraKey, tie("value"), { maxKeys: 2 })).map(([items, extra]) => Object.assign(items, extra)),
    fc.tuple(fc.constantFrom(0, 1), fc.dictionary(extraKey, tie("value"), { minKeys: 1, maxKeys: 2 })).map(([time, extra]) => Object.assign(new Date(time), extra)),
    fc.tuple(fc.array(tie("value"), { maxLength: 2 }), fc.dictionary(extraKey, tie("value"), { maxKeys: 1 })).map(([items, extra]) => Object.assign(new Set(items), extra)),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => strictArguments(...items)),
  ),
}));

/** Argument lists: empty to four arguments. */
export const argumentList = fc.array(value, { maxLength: 4 });

/** Values that look alike in some way (same digits, same bytes, same JSON…) and must all differ. */
export function confusables(): unknown[] {
  const one = new Uint8Array([1]);
  return [
    1, "1", 1n, true, "true", [1], ["1"], { 0: 1 }, { "0": "1" }, new Set([1]), new Map([[0, 1]]), new Map([["0", 1]]),
    Buffer.from([1]), one, Int8Array.of(1), Uint8ClampedArray.of(1), one.slice().buffer, new DataView(one.slice().buffer),
    new Date(1), new Date(1).toISOString(), 12, "12", 1.2, null, "null", undefined, "undefined", NaN, "NaN", 0, -0, "0",
    "-0", "", [], {}, [undefined], [,], [null], { a: undefined }, { a: null }, new Set(), new Map(), new Map([[1, undefined]]),
    "A1:d1;", "d1;", "s1:1", "T", /1/, "/1/", 0.1 + 0.2, 0.3,
    Uint16Array.of(1), Uint16Array.of(256), Uint8Array.of(0, 1), Uint8Array.of(1, 0), [[]], [[], []], [[[]]], { a: {} },
    // Same elements, other extra properties; arguments objects next to the plain objects and arrays they look like.
    "xxb".match(/b/), "b".match(/b/), ["b"], Object.assign([1], { index: 0 }), Object.assign(new Date(1), { x: 1 }),
    Object.assign(/1/g, { lastIndex: 1 }), /1/g, Object.assign(new Set([1]), { x: 1 }),
    strictArguments(1), strictArguments(), { 0: 1, length: 1 }, Object.assign(strictArguments(1), { length: 2 }),
  ];
}

/** Builds the same value again: fresh objects, other insertion orders, copies of dates and buffers. */
export function rebuild(input: unknown, shuffle: <T>(items: T[]) => T[]): unknown {
  if (typeof input !== "object" || input === null) return input;
  if (types.isArgumentsObject(input)) return strictArguments(...Array.from(input, (item) => rebuild(item, shuffle)));
  const copy = rebuildBase(input, shuffle);
  if (copy === input || ArrayBuffer.isView(copy) || !isBuiltIn(input)) return copy;
  // Extra own properties, set in another order; a RegExp's lastIndex.
  for (const key of shuffle(extraKeys(input))) (copy as Record<string, unknown>)[key] = rebuild((input as Record<string, unknown>)[key], shuffle);
  if (input instanceof RegExp) (copy as RegExp).lastIndex = input.lastIndex;
  return copy;
}

/** Whether `value` is one of the built-ins whose extra own properties the key format keeps. */
function isBuiltIn(value: object): boolean {
  return Array.isArray(value) || value instanceof Date || value instanceof Map || value instanceof Set || value instanceof RegExp;
}

/** Own enumerable string keys that are not array elements. */
function extraKeys(value: object): string[] {
  const keys = Object.keys(value);
  return Array.isArray(value) ? keys.filter((key) => !(String(Number(key) >>> 0) === key && Number(key) < value.length)) : keys;
}

function rebuildBase(input: object, shuffle: <T>(items: T[]) => T[]): unknown {
  const proto = Object.getPrototypeOf(input) as object | null;
  if (Array.isArray(input)) {
    const copy: unknown[] = new Array(input.length);
    // Assigning in a shuffled order does not change an array; holes stay holes.
    for (const i of shuffle([...input.keys()])) if (i in input) copy[i] = rebuild(input[i], shuffle);
    return copy;
  }
  if (input instanceof Date) return new Date(input.getTime());
  if (input instanceof Map) return new Map(shuffle([...input]).map(([k, v]) => [rebuild(k, shuffle), rebuild(v, shuffle)]));
  if (input instanceof Set) return new Set(shuffle([...input]).map((item) => rebuild(item, shuffle)));
  if (Buffer.isBuffer(input)) return Buffer.from(input);
  if (input instanceof RegExp) return new RegExp(input.source, input.flags);
  if (input instanceof ArrayBuffer) return input.slice(0);
  if (input instanceof DataView) return new DataView(input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength));
  if (ArrayBuffer.isView(input)) {
    // A view on a larger buffer at an offset: the key depends on the view's bytes only.
    const Type = input.constructor as new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView;
    const size = (input as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const padded = new Uint8Array(input.byteLength + size * 2);
    padded.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), size);
    return new Type(padded.buffer, size, input.byteLength / size);
  }
  const copy = (proto === null ? Object.create(null) : {}) as Record<string, unknown>;
  for (const key of shuffle(Object.keys(input))) copy[key] = rebuild((input as Record<string, unknown>)[key], shuffle);
  return copy;
}

/** Extra own properties (and a RegExp's lastIndex) equal by value. */
function sameExtras(a: object, b: object): boolean {
  if (ArrayBuffer.isView(a)) return true;
  if (a instanceof RegExp && !Object.is(a.lastIndex, (b as RegExp).lastIndex)) return false;
  const keys = extraKeys(a).sort();
  const other = extraKeys(b).sort();
  return keys.length === other.length && keys.every((k, i) => k === other[i] && equalByValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): Uint8Array {
  return view instanceof ArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Every element of `a` matched to a distinct equal element of `b` (equality is an equivalence, so greedy works). */
function sameMultiset<T>(a: T[], b: T[], equal: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  const unused = [...b];
  for (const x of a) {
    const at = unused.findIndex((y) => equal(x, y));
    if (at < 0) return false;
    unused.splice(at, 1);
  }
  return true;
}

/**
 * The oracle: whether two values are equal by value in the sense of DESIGN.md §2, written without
 * looking at the key encoding. Numbers by SameValue (NaN equals NaN, 0 is not -0), objects by their
 * own enumerable keys in any order (a null prototype is still a plain object), arrays by position
 * with holes apart from `undefined`, Maps and Sets by content in any order, dates by time, buffers and
 * typed arrays by type and bytes, regular expressions by source, flags and lastIndex; arrays, dates,
 * Maps, Sets and regular expressions also by their extra own properties; arguments objects are
 * their own type, compared by length and items.
 */
export function equalByValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === "number") return Object.is(a, b);
  if (typeof a !== "object" || a === null || b === null) return a === b;
  const y = b as object;
  // An arguments object is its own type: equal to another one with the same length and items.
  if (types.isArgumentsObject(a) || types.isArgumentsObject(y)) {
    return types.isArgumentsObject(a) && types.isArgumentsObject(y) && a.length === y.length && equalByValue({ ...a }, { ...y });
  }
  const plain = (o: object): boolean => [Object.prototype, null].includes(Object.getPrototypeOf(o) as object | null);
  if (plain(a) && plain(y)) {
    const keys = Object.keys(a).sort();
    const other = Object.keys(y).sort();
    return keys.length === other.length && keys.every((k, i) => k === other[i] && equalByValue((a as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]));
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(y)) return false;
  if (!sameExtras(a, y)) return false;
  if (Array.isArray(a)) {
    const other = y as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in other) return false;
      if (i in a && !equalByValue(a[i], other[i])) return false;
    }
    return true;
  }
  if (a instanceof Date) return Object.is(a.getTime(), (y as Date).getTime());
  if (a instanceof Map) return sameMultiset([...a], [...(y as Map<unknown, unknown>)], ([k1, v1], [k2, v2]) => equalByValue(k1, k2) && equalByValue(v1, v2));
  if (a instanceof Set) return sameMultiset([...a], [...(y as Set<unknown>)], equalByValue);
  if (a instanceof RegExp) return a.source === (y as RegExp).source && a.flags === (y as RegExp).flags;
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const x = bytesOf(a);
    const z = bytesOf(y as ArrayBufferView);
    return x.length === z.length && x.every((byte, i) => byte === z[i]);
  }
  throw new Error(`the oracle does not know ${Object.prototype.toString.call(a)}`);
}

/** A deterministic shuffle driven by a seed (fast-check gives the seed, so failures replay). */
export function shuffler(seed: number): <T>(items: T[]) => T[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  return <T>(items: T[]): T[] => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
}

/**
 * Replaces one node inside the argument list `args` (chosen by `pick`: an argument, or an element or
 * property nested in one) with `replacement`, on a copy. The result is usually, not always, different
 * by value: the oracle decides.
 */
export function mutateArguments(args: readonly unknown[], replacement: unknown, pick: number): unknown[] {
  const copy = rebuild([...args], (items) => items) as unknown[];
  const slots: Array<{ parent: Record<string | number, unknown>; slot: string | number }> = [];
  const isPlain = (node: object): boolean => [Object.prototype, null].includes(Object.getPrototypeOf(node) as object | null);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        slots.push({ parent: node as unknown as Record<number, unknown>, slot: i });
        walk(item);
      });
    } else if (typeof node === "object" && node !== null && isPlain(node)) {
      for (const key of Object.keys(node)) {
        slots.push({ parent: node as Record<string, unknown>, slot: key });
        walk((node as Record<string, unknown>)[key]);
      }
    }
  };
  walk(copy);
  if (slots.length === 0) return [...copy, replacement];
  const { parent, slot } = slots[pick % slots.length]!;
  parent[slot] = replacement;
  return copy;
}
