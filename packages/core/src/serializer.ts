import { deserialize as v8Deserialize, serialize as v8Serialize } from "node:v8";

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
 * `node:v8` structured clone: keeps `undefined`, `NaN`, `Date`, `Map`, `Set`, `BigInt`, typed arrays
 * and `Buffer` (as `Uint8Array`). Never deserialize bytes an attacker can write without a `secret`.
 */
export const v8Serializer: Serializer = {
  name: "v8",
  serialize: (value) => v8Serialize(value),
  deserialize: (bytes) => v8Deserialize(bytes),
};

const undefinedMarker = '{"$mimic":"undefined"}';

/**
 * JSON: readable from any language, but lossy (`Date` → string, `Map`/`Set` → `{}`, `NaN` → `null`);
 * a top-level `undefined` is kept. Use it only for JSON-safe results.
 */
export const jsonSerializer: Serializer = {
  name: "json",
  serialize: (value) => Buffer.from(value === undefined ? undefinedMarker : JSON.stringify(value), "utf8"),
  deserialize: (bytes) => {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    return text === undefinedMarker ? undefined : (JSON.parse(text) as unknown);
  },
};
