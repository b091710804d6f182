import { types } from "node:util";
import { compareCodeUnits, encodePrimitive } from "./primitive.js";

/**
 * The hot-path encoder for the common shapes (primitives, plain objects, arrays, dates). It writes
 * exactly what the careful encoder (careful-encoder.ts) writes, and throws
 * {@link needsCarefulEncoding} for everything else (and past a depth where a cycle is possible), so
 * that the careful encoder can finish the job or name the offending value.
 */

/** Thrown by the fast encoder when it needs the careful one. */
const needsCarefulEncoding: unique symbol = Symbol("needsCarefulEncoding");

/** Deeper than this, the fast encoder hands over: it keeps no cycle set and recurses. */
const FAST_MAX_DEPTH = 64;

/**
 * The longest array a key holds (2^24 elements). Past it an argument is refused, naming it: a key
 * writes a mark per element, so a sparse array of length 2^32 − 1 would take billions of steps.
 */
export const MAX_ARRAY_LENGTH = 0x1000000;

/**
 * What encoding a plain object takes from its key list alone: its keys in canonical order with
 * their encodings. Objects built by the same code share a key list (and order), so this is
 * computed once per shape instead of sorting and formatting keys on every call.
 */
export interface Shape {
  /** The keys as `Object.keys` returns them (insertion order): what a lookup compares. */
  readonly keys: readonly string[];
  /** The keys sorted by UTF-16 code units. */
  readonly sorted: readonly string[];
  /** `s<length>:<key>` for each sorted key. */
  readonly prefixes: readonly string[];
  /** `o<count>:` */
  readonly head: string;
  /**
   * The one shape that stands for every key list with these keys in any order (the first one seen):
   * what the object-argument key cache compares by identity. Itself when it is the first.
   */
  readonly canonical: Shape;
  /** A hash of the sorted keys (the same for every shape with one `canonical`). */
  readonly sortedHash: number;
}

/** Shapes by their first key; a short list each, compared key by key (property keys are interned). */
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
/** Bounds the cache: dictionaries keyed by data (ids as keys) make a new shape per call. */
const MAX_SHAPES = 1024;
const MAX_SHAPES_PER_FIRST_KEY = 8;
/** Objects with more keys than this are encoded without the cache (comparing costs as much as sorting). */
const MAX_CACHED_KEYS = 64;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Canonical shapes by the encoding of their sorted keys; cleared with `shapes`, and bounded on its
 * own too (shapes past a full bucket are not cached, but get a canonical).
 */
const canonicalShapes = new Map<string, Shape>();

/** FNV-1a over the UTF-16 code units of `text`. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}

function makeShape(keys: string[], cached: boolean): Shape {
  const sorted = keys.slice().sort(compareCodeUnits);
  const prefixes = sorted.map((key) => `s${key.length}:${key}`);
  const head = `o${keys.length}:`;
  const shape: { -readonly [K in keyof Shape]: Shape[K] } = {
    keys,
    sorted,
    prefixes,
    head,
    canonical: undefined as unknown as Shape,
    sortedHash: 0,
  };
  shape.canonical = shape;
  if (cached) {
    // Only cached shapes get a shared canonical: the others are made per call, and the key cache
    // leaves objects with that many keys alone.
    const encodedKeys = head + prefixes.join("");
    shape.sortedHash = hashText(encodedKeys);
    const canonical = canonicalShapes.get(encodedKeys);
    if (canonical !== undefined) shape.canonical = canonical;
    else {
      if (canonicalShapes.size >= MAX_SHAPES) canonicalShapes.clear();
      canonicalShapes.set(encodedKeys, shape);
    }
  }
  return shape;
}

/**
 * The shape of an object whose `Object.keys` are `keys`, from the cache. Objects with more than
 * {@link MAX_CACHED_KEYS} keys get a fresh shape each time (its own `canonical`, `sortedHash` 0).
 */
export function shapeOf(keys: string[]): Shape {
  if (keys.length > MAX_CACHED_KEYS) return makeShape(keys, false);
  const first = keys.length === 0 ? "" : keys[0]!;
  let bucket = shapes.get(first);
  if (bucket !== undefined) {
    for (let i = 0; i < bucket.length; i++) if (sameKeys(bucket[i]!.keys, keys)) return bucket[i]!;
  }
  if (shapeCount >= MAX_SHAPES) {
    shapes.clear();
    canonicalShapes.clear();
    shapeCount = 0;
    bucket = undefined;
  }
  const shape = makeShape(keys, true);
  if (bucket === undefined) shapes.set(first, (bucket = []));
  if (bucket.length < MAX_SHAPES_PER_FIRST_KEY) {
    bucket.push(shape);
    shapeCount++;
  }
  return shape;
}

/**
 * Whether a plain-looking object is an arguments object (its own type in the key format). Asked of
 * Node for every such object: an arguments object can lose everything that would tell it apart
 * cheaply (`callee`, `length` and `Symbol.iterator` are all deletable in sloppy mode), and then looks
 * like a plain object with index keys.
 */
export function isArguments(object: object): boolean {
  return types.isArgumentsObject(object);
}

/** Appends the encoding of `value` to `out`. */
export function encodeFast(value: unknown, depth: number, out: string): string {
  const primitive = encodePrimitive(value);
  if (primitive !== undefined) return out + primitive;
  if (typeof value !== "object" || depth > FAST_MAX_DEPTH) throw needsCarefulEncoding;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    const shape = shapeOf(Object.keys(object));
    if (isArguments(object) || Object.getOwnPropertySymbols(object).length > 0) throw needsCarefulEncoding;
    const { sorted, prefixes } = shape;
    out += shape.head;
    for (let i = 0; i < sorted.length; i++) out = encodeFast(object[sorted[i]!], depth + 1, out + prefixes[i]!);
    return out;
  }
  if (proto === Array.prototype) {
    if (!Array.isArray(value) || value.length > MAX_ARRAY_LENGTH || Object.getOwnPropertySymbols(value).length > 0) throw needsCarefulEncoding;
    const array = value as unknown[];
    const length = array.length;
    out += `a${length}:`;
    let present = 0;
    for (let i = 0; i < length; i++) {
      if (i in array) {
        out = encodeFast(array[i], depth + 1, out);
        present++;
      } else out += "h";
    }
    // An element's getter that changed the array's length left the key with a mark per element of
    // the old length: the careful encoder writes it whole (a removed element as a hole). Own
    // enumerable keys beyond the elements are named properties (a match result's index, input and
    // groups): the careful encoder writes them too.
    if (array.length !== length || Object.keys(array).length !== present) throw needsCarefulEncoding;
    return out;
  }
  if (proto === Date.prototype) {
    if (!types.isDate(value) || Object.keys(value as Date).length > 0 || Object.getOwnPropertySymbols(value).length > 0) throw needsCarefulEncoding;
    const time = (value as Date).getTime();
    return `${out}D${Number.isNaN(time) ? "NaN" : time};`;
  }
  throw needsCarefulEncoding;
}
