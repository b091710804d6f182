import { types } from "node:util";
import { isArguments, shapeOf, type Shape } from "./fast-encoder.js";
import { encodePrimitive } from "./primitive.js";

/**
 * A cache of the argument part of the keys of calls with one plain-object argument, looked up
 * without building the key. The argument is walked into a stream of tokens: a canonical token per
 * object shape (one for every order of the same keys), then the values in sorted key order;
 * primitives as themselves. The stream is hashed as it is written, and a cached stream is compared
 * token by token with `===`. Equal streams give equal keys, since the key is built from the stream
 * alone; the walk reads the argument exactly as the fast encoder does and gives up (leaving the
 * call to the encoder) wherever the encoder would hand over to its careful half.
 */

/** Structure tokens are objects, so no primitive value in an argument can equal one. */
const ARRAY = { token: "array" };
const HOLE = { token: "hole" };
const DATE = { token: "date" };
/** `-0` and `NaN` get tokens: `===` does not tell `-0` from `0`, nor `NaN` from itself. */
const NEG_ZERO = { token: "-0" };
const NAN = { token: "NaN" };

/** Past these, an argument is left to the encoder: they bound what a cached stream holds. */
const MAX_TOKENS = 256;
const MAX_DEPTH = 32;
const MAX_STRING_LENGTH = 256;
/** Characters of strings per argument: with the token bound, it bounds the key a record holds. */
const MAX_STRING_CHARACTERS = 2048;
/** Cached streams per function; when full, it starts again. */
const MAX_RECORDS = 1024;
/** A key longer than this (a huge BigInt, long property names) is built on every call, not kept. */
const MAX_RECORDED_KEY_LENGTH = 4096;
/** Objects with more keys are left to the encoder (the shape cache does not keep them either). */
const MAX_KEYS = 64;

/**
 * The stream being written and read (one at a time: a getter that calls a memoized function finds it
 * busy, and no user code runs between the walk and the key built from its tokens).
 */
const tokens: unknown[] = [];
let count = 0;
let characters = 0;
let hash = 0;
let busy = false;
const float = new Float64Array(1);
const floatWords = new Uint32Array(float.buffer);

const PRIME = 0x01000193;

/**
 * Numbers for the strings seen in arguments, which hash them. Bounded: once full it starts again, and
 * a string that gets a new number only makes its cached streams unreachable (the stream itself, not
 * its hash, decides what is equal).
 */
const stringIds = new Map<string, number>();
const MAX_STRING_IDS = 4096;

// The walk is written out by hand (no helper for hashing or pushing): V8's inlining of small helpers
// depends on what else the process has loaded, and this is the hit path of every object argument.

function pushNumber(value: number): boolean {
  if (count === MAX_TOKENS) return false;
  if (value !== value) {
    hash = Math.imul(hash ^ 1, PRIME);
    tokens[count++] = NAN;
  } else if (value === 0 && 1 / value < 0) {
    hash = Math.imul(hash ^ 2, PRIME);
    tokens[count++] = NEG_ZERO;
  } else {
    if ((value | 0) === value) hash = Math.imul(hash ^ value, PRIME);
    else {
      float[0] = value;
      hash = Math.imul(hash ^ floatWords[0]! ^ floatWords[1]!, PRIME);
    }
    tokens[count++] = value;
  }
  return true;
}

/** Appends `value`'s tokens; `false` when the encoder must key it (or it is too big to cache). */
function walk(value: unknown, depth: number): boolean {
  if (count === MAX_TOKENS) return false;
  switch (typeof value) {
    case "number":
      return pushNumber(value);
    case "string": {
      if (value.length > MAX_STRING_LENGTH || (characters += value.length) > MAX_STRING_CHARACTERS) return false;
      // A string is hashed by its number in a table: the Map hashes it natively (and a literal's hash
      // is already known), which is cheaper than reading its characters here.
      let id = stringIds.get(value);
      if (id === undefined) {
        if (stringIds.size >= MAX_STRING_IDS) stringIds.clear();
        stringIds.set(value, (id = stringIds.size + 1));
      }
      hash = Math.imul(hash ^ id, PRIME);
      tokens[count++] = value;
      return true;
    }
    case "boolean":
      hash = Math.imul(hash ^ (value ? 3 : 4), PRIME);
      tokens[count++] = value;
      return true;
    case "undefined":
      hash = Math.imul(hash ^ 5, PRIME);
      tokens[count++] = value;
      return true;
    case "bigint":
      hash = Math.imul(hash ^ 6 ^ Number(BigInt.asUintN(32, value)), PRIME);
      tokens[count++] = value;
      return true;
    case "object":
      if (value === null) {
        hash = Math.imul(hash ^ 7, PRIME);
        tokens[count++] = value;
        return true;
      }
      return depth < MAX_DEPTH && walkObject(value, depth + 1);
    default:
      return false;
  }
}

function walkObject(value: object, depth: number): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length > MAX_KEYS) return false;
    const shape: Shape = shapeOf(keys);
    if (isArguments(object) || Object.getOwnPropertySymbols(object).length > 0) return false;
    if (count === MAX_TOKENS) return false;
    hash = Math.imul(hash ^ shape.sortedHash, PRIME);
    tokens[count++] = shape.canonical;
    const sorted = shape.sorted;
    for (let i = 0; i < sorted.length; i++) if (!walk(object[sorted[i]!], depth)) return false;
    return true;
  }
  if (proto === Array.prototype) {
    if (!Array.isArray(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
    const array = value as unknown[];
    // Read again before each element and after the last, where the encoder reads it: an element's
    // getter (or a Proxy) that changes it leaves the array to the encoder.
    const length: unknown = array.length;
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || count + 2 > MAX_TOKENS) return false;
    hash = Math.imul(Math.imul(hash ^ 8, PRIME) ^ length, PRIME);
    tokens[count++] = ARRAY;
    tokens[count++] = length;
    let present = 0;
    for (let i = 0; i < length; i++) {
      if (array.length !== length) return false;
      if (i in array) {
        if (!walk(array[i], depth)) return false;
        present++;
      } else if (count === MAX_TOKENS) return false;
      else tokens[count++] = HOLE;
    }
    // Named properties beyond the elements are the careful encoder's to write.
    return array.length === length && Object.keys(array).length === present;
  }
  if (proto === Date.prototype) {
    if (!types.isDate(value) || Object.keys(value).length > 0 || Object.getOwnPropertySymbols(value).length > 0) return false;
    if (count === MAX_TOKENS) return false;
    hash = Math.imul(hash ^ 9, PRIME);
    tokens[count++] = DATE;
    const time: unknown = (value as Date).getTime();
    // The encoder writes the time as a template literal does: -0 as 0 (a real Date never has -0).
    return typeof time === "number" && pushNumber(time === 0 ? 0 : time);
  }
  return false;
}

let readAt = 0;

/** The encoding of the value whose tokens start at `readAt` (the fast encoder's output for it). */
function encodeTokens(): string {
  const token = tokens[readAt++];
  if (typeof token !== "object" || token === null) return encodePrimitive(token)!;
  if (token === NEG_ZERO) return "d-0;";
  if (token === NAN) return "dNaN;";
  if (token === DATE) {
    const time = tokens[readAt++];
    return time === NAN ? "DNaN;" : `D${time as number};`;
  }
  if (token === ARRAY) {
    const length = tokens[readAt++] as number;
    let out = `a${length}:`;
    for (let i = 0; i < length; i++) {
      if (tokens[readAt] === HOLE) {
        readAt++;
        out += "h";
      } else out += encodeTokens();
    }
    return out;
  }
  const shape = token as Shape;
  let out = shape.head;
  for (let i = 0; i < shape.prefixes.length; i++) out += shape.prefixes[i]! + encodeTokens();
  return out;
}

function sameTokens(cached: readonly unknown[]): boolean {
  if (cached.length !== count) return false;
  for (let i = 0; i < count; i++) if (cached[i] !== tokens[i]) return false;
  return true;
}

interface KeyRecord {
  readonly tokens: readonly unknown[];
  /** The argument part of the key: `A1:` and the argument's encoding. */
  readonly key: string;
}

/**
 * One function's cache of the keys of its calls with one plain-object (or array, or date) argument,
 * so that a hit on such a call reads its entry without encoding the argument.
 */
export class ObjectKeyCache {
  readonly #records = new Map<number, KeyRecord>();

  /**
   * The argument part of the key of a call whose lone argument is `arg`, exactly as `encodeArguments`
   * writes it; `undefined` when `arg` is not one this cache keys (the encoder then does, or names
   * what it cannot key). Never throws: a getter that throws is the encoder's to report.
   */
  argumentsKey(arg: object): string | undefined {
    if (busy) return undefined;
    busy = true;
    try {
      count = 0;
      characters = 0;
      hash = 0x811c9dc5;
      if (!walkObject(arg, 1)) return undefined;
      const records = this.#records;
      const record = records.get(hash);
      if (record !== undefined && sameTokens(record.tokens)) return record.key;
      readAt = 0;
      const key = `A1:${encodeTokens()}`;
      if (key.length <= MAX_RECORDED_KEY_LENGTH) {
        if (record === undefined && records.size >= MAX_RECORDS) records.clear();
        records.set(hash, { tokens: tokens.slice(0, count), key });
      }
      return key;
    } catch {
      return undefined;
    } finally {
      busy = false;
    }
  }

  /** How many keys it keeps (for tests). */
  get recordCount(): number {
    return this.#records.size;
  }
}
