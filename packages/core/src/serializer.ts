import { deserialize as v8Deserialize, serialize as v8Serialize } from "node:v8";
import { assertV8Faithful } from "./v8-fidelity.js";

/**
 * Turns values into bytes and back, for states that keep entries outside the process (Redis, files).
 * `deserialize` must throw on bytes it did not produce rather than return a wrong value.
 */
export interface Serializer {
  /** A short stable name stored with entries, so that bytes written by another serializer are a miss. */
  readonly name: string;
  /** Encodes a value. Throws when the value cannot be encoded (e.g. a function with `v8`). */
  serialize(value: unknown): Uint8Array;
  /** Decodes bytes produced by {@link Serializer.serialize}; throws on anything else. */
  deserialize(bytes: Uint8Array): unknown;
}

/**
 * `node:v8` structured clone: keeps `undefined`, `NaN`, `Date`, `Map`, `Set`, `BigInt`, typed arrays,
 * `Buffer` and the native `Error` classes. A value it would give back changed — a class instance
 * (methods lost), a `URL`, an `Error` subclass, symbol-keyed properties, extra properties on a
 * built-in, a RegExp's `lastIndex` — makes `serialize` throw a `TypeError` naming where and what it is, so such a result is
 * returned to the caller and reported (`onError`), never stored and later served as something else.
 * Not checked (it would cost far more than the serialization): a getter comes back as a data
 * property holding the value it gave when serialized, non-enumerable own properties of plain objects
 * and arrays are dropped, frozen or sealed objects come back extensible, and named properties added to
 * a typed array or `Buffer` are dropped.
 * Never deserialize bytes an attacker can write without a `secret`.
 */
export const v8Serializer: Serializer = {
  name: "v8",
  serialize: (value) => {
    assertV8Faithful(value);
    return v8Serialize(value);
  },
  deserialize: (bytes) => v8Deserialize(bytes),
};

/** Refuses, while stringifying, every value JSON would not give back as it is. */
function faithfulOnly(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  const where = key === "v" && Object.keys(this as object).length === 1 ? "the value" : `property ${JSON.stringify(key)}`;
  if (typeof original === "number" && (!Number.isFinite(original) || Object.is(original, -0))) {
    throw new TypeError(`jsonSerializer: ${where} is ${Object.is(original, -0) ? "-0" : original}, which JSON cannot keep`);
  }
  if (original === undefined || typeof original === "function" || typeof original === "symbol" || typeof original === "bigint") {
    throw new TypeError(`jsonSerializer: ${where} is ${typeof original === "undefined" ? "undefined" : `a ${typeof original}`}, which JSON cannot keep`);
  }
  if (typeof original === "object" && original !== null) {
    const proto = Object.getPrototypeOf(original) as object | null;
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      const name = (original as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new TypeError(`jsonSerializer: ${where} is a ${name}, which JSON cannot keep (use v8Serializer)`);
    }
    if (Array.isArray(original) && original.length !== Object.keys(original).length) {
      throw new TypeError(`jsonSerializer: ${where} is a sparse array, which JSON cannot keep`);
    }
  }
  return value;
}

/**
 * JSON, for entries other languages can read: values are wrapped as `{"v": value}` (`{}` for
 * `undefined`) so that nothing a function returns can pass for a marker. Only values JSON gives
 * back unchanged are accepted: `NaN`, `-0`, `Infinity`, `undefined` inside objects, `Date`, `Map`,
 * class instances, `BigInt`… make `serialize` throw, so such a result is not cached (the error is
 * reported) rather than cached as something else.
 */
export const jsonSerializer: Serializer = {
  name: "json",
  serialize: (value) => Buffer.from(value === undefined ? "{}" : JSON.stringify({ v: value }, faithfulOnly), "utf8"),
  deserialize: (bytes) => {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new TypeError("jsonSerializer: bytes are not a Mimic JSON entry");
    }
    return "v" in parsed ? (parsed as { v: unknown }).v : undefined;
  },
};
