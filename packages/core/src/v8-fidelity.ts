/**
 * What `node:v8` gives back exactly as it was given: plain objects and arrays, primitives, and the
 * built-ins it knows (Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, Buffer, the
 * primitive wrappers, and the native Error classes). Everything else comes back changed, silently: a
 * class instance as a plain object (its methods gone), a `URL` as `{}`, an Error subclass as a plain
 * `Error`, symbol-keyed properties and extra properties of built-ins dropped. Such values are
 * refused before they are stored, so a hit never returns something other than what the function did.
 */

const TYPED_ARRAYS: readonly Function[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView, Buffer,
];
/** Built-ins kept with their contents but not their own extra properties. */
const OPAQUE: readonly Function[] = [Date, RegExp, ArrayBuffer, Boolean, Number, String, BigInt, ...TYPED_ARRAYS];
/** The Error classes `node:v8` restores as themselves (AggregateError loses its `errors`). */
const NATIVE_ERRORS: readonly Function[] = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];

function className(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "object without a prototype";
}

function refuse(path: string, what: string, comesBackAs: string): never {
  throw new TypeError(
    `v8Serializer: ${path} is ${what}, which node:v8 would give back as ${comesBackAs}; return plain data ` +
      `(objects, arrays, Map, Set, Date…) or give the state a serializer that handles it (option \`serializer\`)`,
  );
}

/** The own properties `node:v8` would drop from `value` (symbol keys; any extra keys of an opaque built-in). */
function checkOwnKeys(value: object, path: string, opaque: boolean): void {
  if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, `a ${className(value)} with symbol-keyed properties`, "one without them");
  if (!opaque) return;
  // Typed arrays and String objects list their elements as own keys; those are their contents.
  const indexed = ArrayBuffer.isView(value) || value instanceof String;
  const extra = Object.keys(value).filter((key) => !(indexed && /^(0|[1-9]\d*)$/.test(key)));
  if (extra.length > 0) refuse(path, `a ${className(value)} with extra properties (${extra.slice(0, 3).join(", ")})`, `a ${className(value)} without them`);
}

/**
 * Throws a `TypeError` naming the path and class of the first part of `root` that `node:v8` would not
 * restore as it was. Iterative (no recursion limit); shared and cyclic references are visited once.
 */
export function assertV8Faithful(root: unknown): void {
  const stack: Array<[unknown, string]> = [[root, "the value"]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value !== "object" || value === null || seen.has(value)) continue;
    seen.add(value);
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === Array.prototype) {
      checkOwnKeys(value, path, false);
      for (const [key, child] of Object.entries(value)) stack.push([child, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`]);
      continue;
    }
    if (proto === null) refuse(path, "an object without a prototype", "a plain object (with Object.prototype)");
    if (proto === Map.prototype || proto === Set.prototype) {
      checkOwnKeys(value, path, true);
      let i = 0;
      for (const item of value as Map<unknown, unknown> | Set<unknown>) {
        if (Array.isArray(item) && proto === Map.prototype) {
          stack.push([item[0], `${path} key #${i}`], [item[1], `${path} value #${i}`]);
        } else stack.push([item, `${path} item #${i}`]);
        i++;
      }
      continue;
    }
    if (OPAQUE.some((ctor) => proto === ctor.prototype)) {
      checkOwnKeys(value, path, true);
      continue;
    }
    if (value instanceof Error) {
      if (!NATIVE_ERRORS.some((ctor) => proto === ctor.prototype)) refuse(path, `a ${className(value)} (an Error subclass)`, "a plain Error");
      checkOwnKeys(value, path, true);
      if ("cause" in value) stack.push([value.cause, `${path}.cause`]);
      continue;
    }
    refuse(path, `a ${className(value)} instance`, "a plain object without its class or methods");
  }
}
