import { types } from "node:util";
import { UnsupportedArgumentError } from "../errors.js";
import { type CallKind, NAMESPACE_END } from "./namespace.js";
import { isLoneKeyable } from "./keyable.js";
import { compareCodeUnits, Encoder } from "./careful-encoder.js";
import { decodePrimitiveArguments, encodePrimitive } from "./primitive.js";

/**
 * Canonical, type-tagged encoding of call arguments into the argument part of cache keys. The format
 * is specified in `docs/KEY_FORMAT.md` (with test vectors); any change to what this produces for an
 * existing input must bump `KEY_FORMAT_VERSION` (keys/namespace.ts).
 */

// The modules that assemble keys import these from here as well as from their own modules.
export { type CallKind, NAMESPACE_END, isLoneKeyable, decodePrimitiveArguments, encodePrimitive };

/** Thrown by the fast encoder when it needs the careful one (to name a bad value, or past this depth). */
const needsCarefulEncoding: unique symbol = Symbol("needsCarefulEncoding");
const FAST_MAX_DEPTH = 64;

function isSorted(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/**
 * The hot-path encoder for the common shapes (primitives, plain objects, arrays, dates): no path
 * tracking and no cycle set. It produces exactly what {@link Encoder} produces, and throws
 * {@link needsCarefulEncoding} for everything else, or past a depth where a cycle is possible,
 * so that the careful encoder can finish the job or name the offending value.
 */
function encodeFast(value: unknown, depth: number): string {
  const primitive = encodePrimitive(value);
  if (primitive !== undefined) return primitive;
  if (typeof value !== "object" || depth > FAST_MAX_DEPTH) throw needsCarefulEncoding;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Array.prototype) {
    if (!Array.isArray(value)) throw needsCarefulEncoding;
    const array = value as unknown[];
    let out = `a${array.length}:`;
    let present = 0;
    for (let i = 0; i < array.length; i++) {
      if (i in array) {
        out += encodeFast(array[i], depth + 1);
        present++;
      } else out += "h";
    }
    // Own enumerable keys beyond the elements are named properties (a match result's index, input
    // and groups): the careful encoder writes them.
    if (Object.keys(array).length !== present || Object.getOwnPropertySymbols(array).length > 0) throw needsCarefulEncoding;
    return out;
  }
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    if (types.isArgumentsObject(object)) throw needsCarefulEncoding;
    const keys = Object.keys(object);
    if (!isSorted(keys)) keys.sort(compareCodeUnits);
    let out = `o${keys.length}:`;
    for (const key of keys) out += `s${key.length}:${key}${encodeFast(object[key], depth + 1)}`;
    if (Object.getOwnPropertySymbols(object).length > 0) throw needsCarefulEncoding;
    return out;
  }
  if (proto === Date.prototype) {
    if (!types.isDate(value) || Object.keys(value as Date).length > 0 || Object.getOwnPropertySymbols(value).length > 0) throw needsCarefulEncoding;
    const time = (value as Date).getTime();
    return `D${Number.isNaN(time) ? "NaN" : time};`;
  }
  throw needsCarefulEncoding;
}

/** Encodes one argument: the fast encoder, else the careful one (which names what it cannot key). */
function encodeArgument(value: unknown, position: number, functionName: string): string {
  try {
    return encodeFast(value, 0);
  } catch {
    // Whatever stopped the fast encoder (a value it leaves to the careful one, a revoked Proxy, a
    // throwing getter), the careful encoder names it or throws the user's error again.
    return new Encoder(`Mime: "${functionName}"`).encodeAt(`argument ${position}`, value);
  }
}

/**
 * Encodes a call's arguments into the argument part of a key. Every argument list that differs by
 * value gets a different encoding (see `docs/KEY_FORMAT.md`); `{a:1,b:2}` and `{b:2,a:1}` are equal.
 * @param functionName used in the error message
 * @throws UnsupportedArgumentError naming the argument position, the path inside it and its type
 */
export function encodeArguments(args: ArrayLike<unknown>, functionName = "the function"): string {
  let out = `A${args.length}:`;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    out += encodePrimitive(arg) ?? encodeArgument(arg, i, functionName);
  }
  return out;
}

/**
 * Encodes the value a user's `key` option returned. Any value the argument encoding accepts is
 * allowed; it is tagged apart from argument lists so that the two kinds never collide.
 */
export function encodeCustomKey(value: unknown, functionName = "the function"): string {
  const primitive = encodePrimitive(value);
  if (primitive !== undefined) return `K${primitive}`;
  try {
    return `K${encodeFast(value, 0)}`;
  } catch {
    return `K${new Encoder(`Mime: the value returned by the \`key\` option of "${functionName}"`).encodeAt("", value)}`;
  }
}

/**
 * The key part for a primitive `this` of a strict-mode call (`shout.call("bye")`), which the engine
 * puts between the namespace and the arguments: `t` + the primitive's encoding, or `""` for
 * `undefined` (a plain call). `A` and `K` never start with `t`, so a call with a primitive `this`
 * never shares a key with one without.
 * @throws UnsupportedArgumentError for a symbol or an object `this`, naming `this`
 */
export function encodeThisArgument(thisArg: unknown, functionName = "the function"): string {
  if (thisArg === undefined) return "";
  const primitive = encodePrimitive(thisArg);
  if (primitive !== undefined) return `t${primitive}`;
  if (typeof thisArg === "object" || typeof thisArg === "function") {
    throw new UnsupportedArgumentError(`Mime: "${functionName}" \`this\` is an object, which encodeThisArgument does not key (objects are keyed per instance)`);
  }
  return `t${new Encoder(`Mime: "${functionName}"`).encodeAt("`this`", thisArg)}`;
}
