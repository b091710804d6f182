import { UnsupportedArgumentError } from "../errors.js";
import { type CallKind, NAMESPACE_END } from "./namespace.js";
import { isLoneKeyable } from "./keyable.js";
import { Encoder } from "./careful-encoder.js";
import { encodeFast } from "./fast-encoder.js";
import { decodePrimitiveArguments, encodePrimitive } from "./primitive.js";

/**
 * Canonical, type-tagged encoding of call arguments into the argument part of cache keys. The format
 * is specified in `docs/KEY_FORMAT.md` (with test vectors); any change to what this produces for an
 * existing input must bump `KEY_FORMAT_VERSION` (keys/namespace.ts).
 */

// The modules that assemble keys import these from here as well as from their own modules.
export { type CallKind, NAMESPACE_END, isLoneKeyable, decodePrimitiveArguments, encodePrimitive };

/** Appends one argument to `out`: the fast encoder, else the careful one (which names what it cannot key). */
function encodeArgument(value: unknown, position: number, functionName: string, out: string): string {
  try {
    return encodeFast(value, 0, out);
  } catch {
    // Whatever stopped the fast encoder (a value it leaves to the careful one, a revoked Proxy, a
    // throwing getter), the careful encoder names it or throws the user's error again.
    return out + new Encoder(`Mime: "${functionName}"`).encodeAt(`argument ${position}`, value);
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
    const primitive = encodePrimitive(arg);
    out = primitive !== undefined ? out + primitive : encodeArgument(arg, i, functionName, out);
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
    return encodeFast(value, 0, "K");
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
