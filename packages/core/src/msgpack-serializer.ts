import type { Serializer } from "./serializer.js";

/** The part of the `msgpackr` module the serializer uses (pass the module itself). */
export interface MsgpackrModule {
  /** msgpackr's encoder/decoder class. */
  Packr: new (options: { useRecords: boolean; moreTypes: boolean }) => {
    pack(value: unknown): Uint8Array;
    unpack(bytes: Uint8Array): unknown;
  };
}

/**
 * The binary types msgpackr gives back as they were wherever they sit in a value. (Other typed
 * arrays come back as plain objects when they land at an unaligned offset.)
 */
const BINARY: readonly Function[] = [Uint8Array, Buffer];

function refuse(path: string, what: string): never {
  throw new TypeError(
    `msgpackSerializer: ${path} is ${what}, which MessagePack would not give back as it was; return plain data ` +
      `(objects, arrays, strings, numbers, Date, bigint, Uint8Array) or use v8Serializer`,
  );
}

/**
 * Throws unless msgpackr gives `root` back as it was: plain objects (string keys), dense arrays,
 * primitives but `-0` and symbols, `Date`, `bigint`, `Uint8Array`/`Buffer`. Iterative; a cycle is refused.
 */
function assertMsgpackFaithful(root: unknown): void {
  const stack: Array<[unknown, string]> = [[root, "the value"]];
  const onPath = new Set<object>();
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === "number") {
      if (Object.is(value, -0)) refuse(path, "-0");
      continue;
    }
    if (typeof value === "symbol" || typeof value === "function") refuse(path, `a ${typeof value}`);
    if (typeof value !== "object" || value === null) continue;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Date.prototype || BINARY.some((ctor) => proto === ctor.prototype)) {
      if (Object.keys(value).some((key) => !(ArrayBuffer.isView(value) && /^\d+$/.test(key)))) refuse(path, "a built-in with extra properties");
      continue;
    }
    if (proto !== Object.prototype && proto !== Array.prototype) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name;
      refuse(path, proto === null ? "an object without a prototype" : `a ${name ?? "object"}${name === "Map" || name === "Set" ? "" : " instance"}`);
    }
    // Visited once each: a second visit is a shared object or a cycle, and msgpackr (without
    // structured cloning) would duplicate the one and fail on the other; refused either way.
    if (onPath.has(value)) refuse(path, "an object reached twice (shared or circular)");
    onPath.add(value);
    if (Object.getOwnPropertySymbols(value).length > 0) refuse(path, "an object with symbol-keyed properties");
    if (Array.isArray(value)) {
      if (Object.keys(value).length !== value.length) refuse(path, "a sparse array or one with extra properties");
      value.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    } else {
      for (const [key, item] of Object.entries(value)) stack.push([item, `${path}.${key}`]);
    }
  }
}

/**
 * MessagePack through the `msgpackr` package (install it yourself: Mimic has no dependency on it):
 * smaller entries and faster plain-data reads than `node:v8`, and bytes other languages can read.
 * Only values MessagePack gives back as they were are accepted — plain objects, dense arrays,
 * strings, numbers (not `-0`), booleans, `null`, `undefined`, `Date`, `bigint`, `Uint8Array` and
 * `Buffer`; a `Map`, `Set`, class instance, cycle or `-0` makes `serialize` throw a `TypeError`
 * naming where it is, so such a result is returned and reported, never stored as something else.
 * @example
 * import * as msgpackr from "msgpackr";
 * new RedisState({ url, serializer: msgpackSerializer(msgpackr) });
 */
export function msgpackSerializer(msgpackr: MsgpackrModule): Serializer {
  if (typeof msgpackr?.Packr !== "function") {
    throw new TypeError("msgpackSerializer(msgpackr): pass the msgpackr module (import * as msgpackr from \"msgpackr\")");
  }
  const packr = new msgpackr.Packr({ useRecords: false, moreTypes: true });
  return {
    name: "msgpack",
    serialize(value) {
      assertMsgpackFaithful(value);
      return packr.pack(value);
    },
    deserialize: (bytes) => packr.unpack(bytes),
  };
}
