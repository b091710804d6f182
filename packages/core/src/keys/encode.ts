import { createHash } from "node:crypto";
import { UnsupportedArgumentError } from "../errors.js";

/**
 * Canonical, type-tagged encoding of call arguments into cache keys. The format is specified in
 * `docs/KEY_FORMAT.md` (with test vectors); any change to what this file produces for an existing
 * input must bump {@link KEY_FORMAT_VERSION}, because Redis and static temp-file caches are shared
 * across processes, machines and releases.
 */
export const KEY_FORMAT_VERSION = 1;

/** The character that ends a key's namespace; it never occurs inside a namespace. */
export const NAMESPACE_END = "|";

const KEY_PREFIX = `m${KEY_FORMAT_VERSION}:`;

/** Whether results of a function are returned as values (`"sync"`) or promises (`"async"`). */
export type CallKind = "sync" | "async";

const hexTable = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: Uint8Array): string {
  if (bytes.length > 64) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += hexTable[bytes[i]!];
  return out;
}

function encodeString(value: string): string {
  return `s${value.length}:${value}`;
}

function encodeNumber(value: number): string {
  // Number#toString is the shortest round-trip form and is fixed by the ECMAScript spec, so it is the
  // same on every engine and version; -0 is kept apart from 0 because 1/x tells them apart.
  return Object.is(value, -0) ? "d-0;" : `d${value};`;
}

/**
 * Encodes one primitive argument, or returns `undefined` when the value is not a primitive this
 * fast path handles. Used on the hit path, so it must stay small.
 */
export function encodePrimitive(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return encodeString(value);
    case "number":
      return encodeNumber(value);
    case "boolean":
      return value ? "T" : "F";
    case "undefined":
      return "u";
    case "bigint":
      return `b${value};`;
    case "object":
      return value === null ? "n" : undefined;
    default:
      return undefined;
  }
}

const typedArrayNames = new Map<object, string>([
  [Int8Array.prototype, "Int8Array"],
  [Uint8Array.prototype, "Uint8Array"],
  [Uint8ClampedArray.prototype, "Uint8ClampedArray"],
  [Int16Array.prototype, "Int16Array"],
  [Uint16Array.prototype, "Uint16Array"],
  [Int32Array.prototype, "Int32Array"],
  [Uint32Array.prototype, "Uint32Array"],
  [Float32Array.prototype, "Float32Array"],
  [Float64Array.prototype, "Float64Array"],
  [BigInt64Array.prototype, "BigInt64Array"],
  [BigUint64Array.prototype, "BigUint64Array"],
]);

function byteView(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian element order, so keys are the same on every platform. */
function littleEndianBytes(array: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const bytes = byteView(array);
  const size = array.BYTES_PER_ELEMENT;
  if (littleEndian || size === 1) return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) swapped[i + j] = bytes[i + size - 1 - j]!;
  return swapped;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol") return `symbol ${value.toString()}`;
  if (typeof value !== "object") return typeof value;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) return "plain object";
  if (proto === Array.prototype) return "array";
  const ctor = (value as { constructor?: unknown }).constructor;
  const name = typeof ctor === "function" ? ctor.name : "";
  return name ? `${name} instance` : "object with a custom prototype";
}

/** Encodes values depth-first, tracking the path for messages and the open objects for cycles. */
class Encoder {
  private readonly open = new Set<object>();
  private readonly path: string[] = [];

  constructor(private readonly where: string) {}

  encode(value: unknown): string {
    const primitive = encodePrimitive(value);
    if (primitive !== undefined) return primitive;
    if (typeof value !== "object" || value === null) return this.fail(value, "functions and symbols have no value to compare");
    if (this.open.has(value)) return this.fail(value, "it contains itself: a cycle");
    this.open.add(value);
    try {
      return this.encodeObject(value);
    } finally {
      this.open.delete(value);
    }
  }

  private encodeObject(value: object): string {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Array.prototype) return this.encodeArray(value as unknown[]);
    if (proto === Object.prototype || proto === null) return this.encodePlainObject(value);
    if (proto === Date.prototype) {
      const time = (value as Date).getTime();
      return `D${Number.isNaN(time) ? "NaN" : time};`;
    }
    if (proto === Map.prototype) return this.encodeMap(value as Map<unknown, unknown>);
    if (proto === Set.prototype) return this.encodeSet(value as Set<unknown>);
    if (Buffer.isBuffer(value)) return `B${value.length}:${hex(value)}`;
    const typedName = typedArrayNames.get(proto as object);
    if (typedName !== undefined) {
      const bytes = littleEndianBytes(value as ArrayBufferView & { BYTES_PER_ELEMENT: number });
      return `x${typedName}:${bytes.length}:${hex(bytes)}`;
    }
    if (proto === ArrayBuffer.prototype) {
      const bytes = new Uint8Array(value as ArrayBuffer);
      return `X${bytes.length}:${hex(bytes)}`;
    }
    if (proto === DataView.prototype) {
      const bytes = byteView(value as DataView);
      return `V${bytes.length}:${hex(bytes)}`;
    }
    if (proto === RegExp.prototype) {
      const re = value as RegExp;
      return `R${encodeString(re.source)}${encodeString(re.flags)}`;
    }
    return this.fail(value, "a class instance's identity and behaviour are not in its fields");
  }

  private encodeArray(array: unknown[]): string {
    let out = `a${array.length}:`;
    for (let i = 0; i < array.length; i++) {
      // A hole (sparse array) and an explicit undefined are different arguments.
      if (!(i in array)) {
        out += "h";
        continue;
      }
      this.path.push(`[${i}]`);
      out += this.encode(array[i]);
      this.path.pop();
    }
    this.rejectSymbolKeys(array);
    return out;
  }

  private encodePlainObject(object: object): string {
    const keys = Object.keys(object).sort(compareCodeUnits);
    let out = `o${keys.length}:`;
    for (const key of keys) {
      this.path.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      out += encodeString(key) + this.encode((object as Record<string, unknown>)[key]);
      this.path.pop();
    }
    this.rejectSymbolKeys(object);
    return out;
  }

  private encodeMap(map: Map<unknown, unknown>): string {
    const entries: string[] = [];
    for (const [key, value] of map) {
      this.path.push(".<map key>");
      const encodedKey = this.encode(key);
      this.path.pop();
      this.path.push(`.get(${typeof key === "string" ? JSON.stringify(key) : "…"})`);
      entries.push(encodedKey + this.encode(value));
      this.path.pop();
    }
    // Entries are sorted by their encoding: a Map's insertion order does not change its content.
    return `M${entries.length}:${entries.sort(compareCodeUnits).join("")}`;
  }

  private encodeSet(set: Set<unknown>): string {
    const items: string[] = [];
    for (const item of set) {
      this.path.push(".<set item>");
      items.push(this.encode(item));
      this.path.pop();
    }
    return `S${items.length}:${items.sort(compareCodeUnits).join("")}`;
  }

  private rejectSymbolKeys(object: object): void {
    const symbol = Object.getOwnPropertySymbols(object).find((s) => Object.prototype.propertyIsEnumerable.call(object, s));
    if (symbol !== undefined) this.fail(object, `it has an enumerable symbol key, ${symbol.toString()}`);
  }

  private fail(value: unknown, reason: string): never {
    const at = this.path.length > 0 ? ` ${this.path.join("")}` : "";
    throw new UnsupportedArgumentError(
      `${this.where}${at} is a ${typeName(value)}, which has no faithful cache key (${reason}); ` +
        `pass a \`key: (...args) => …\` option to Mime to say how to key this call`,
    );
  }

  withPosition(position: number, value: unknown): string {
    this.path.length = 0;
    this.path.push(`argument ${position}`);
    try {
      return this.encode(value);
    } finally {
      this.path.length = 0;
    }
  }
}

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
    const array = value as unknown[];
    let out = `a${array.length}:`;
    for (let i = 0; i < array.length; i++) out += i in array ? encodeFast(array[i], depth + 1) : "h";
    if (Object.getOwnPropertySymbols(array).length > 0) throw needsCarefulEncoding;
    return out;
  }
  if (proto === Object.prototype || proto === null) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (!isSorted(keys)) keys.sort(compareCodeUnits);
    let out = `o${keys.length}:`;
    for (const key of keys) out += `s${key.length}:${key}${encodeFast(object[key], depth + 1)}`;
    if (Object.getOwnPropertySymbols(object).length > 0) throw needsCarefulEncoding;
    return out;
  }
  if (proto === Date.prototype) {
    const time = (value as Date).getTime();
    return `D${Number.isNaN(time) ? "NaN" : time};`;
  }
  throw needsCarefulEncoding;
}

/** Encodes one argument: the fast encoder, else the careful one (which names what it cannot key). */
function encodeArgument(value: unknown, position: number, functionName: string): string {
  try {
    return encodeFast(value, 0);
  } catch (error) {
    if (error !== needsCarefulEncoding) throw error;
    return new Encoder(`Mime: "${functionName}"`).withPosition(position, value);
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
  } catch (error) {
    if (error !== needsCarefulEncoding) throw error;
    return `K${new Encoder(`Mime: the value returned by the \`key\` option of "${functionName}"`).encode(value)}`;
  }
}

/** Percent-encodes everything but `[A-Za-z0-9_.$-]`, so a namespace never contains `:` or `|`. */
export function escapeNamespacePart(part: string): string {
  return part.replace(/[^A-Za-z0-9_.$-]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `%${code.toString(16).padStart(2, "0")}` : `%u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The first 16 hex digits of the SHA-256 of a function's source text. */
export function sourceDigest(source: string): string {
  return createHash("sha256").update(source, "utf8").digest("hex").slice(0, 16);
}

/** `s`/`a` for plain entries; `S`/`A` for entries wrapped with their freshness (stale windows on). */
function kindLetter(kind: CallKind, enveloped: boolean): string {
  const letter = kind === "sync" ? "s" : "a";
  return enveloped ? letter.toUpperCase() : letter;
}

/**
 * The namespace of a function in a shared state: stable across processes, machines and releases
 * as long as the name, version and source text stay the same.
 */
export function sharedNamespace(kind: CallKind, name: string, version: string, digest: string, enveloped = false): string {
  return `${KEY_PREFIX}${kindLetter(kind, enveloped)}:${escapeNamespacePart(name)}:${escapeNamespacePart(version)}:${digest}${NAMESPACE_END}`;
}

/**
 * The namespace of one wrapper (and, for methods, one instance) in a process-local state: closures
 * that share their source text never share entries there.
 */
export function localNamespace(kind: CallKind, name: string, wrapperId: number, instanceId?: number, enveloped = false): string {
  const owner = instanceId === undefined ? `${wrapperId}` : `${wrapperId}.${instanceId}`;
  return `${KEY_PREFIX}${kindLetter(kind, enveloped)}:~${owner}:${escapeNamespacePart(name)}${NAMESPACE_END}`;
}

/**
 * For states that need keys of bounded length (Redis keys, file names): returns `key` unchanged when
 * it has at most `maxLength` characters, otherwise its namespace followed by `#` and the SHA-256 of
 * the argument part. The namespace is kept, so per-function prefixes still work.
 */
export function shortenKey(key: string, maxLength: number): string {
  if (key.length <= maxLength) return key;
  const end = key.indexOf(NAMESPACE_END) + 1;
  return `${key.slice(0, end)}#${hashKeyText(key.slice(end))}`;
}

/**
 * SHA-256 over the UTF-16LE code units of key text: lossless for every string, where UTF-8 would
 * turn each lone surrogate (which a string argument may hold) into U+FFFD and make keys collide.
 */
function hashKeyText(text: string): string {
  return createHash("sha256").update(text, "utf16le").digest("hex");
}

/** The fixed-length SHA-256 hex digest of a whole key (e.g. a file name), over its UTF-16 code units. */
export function digestKey(key: string): string {
  return hashKeyText(key);
}

/** The longest string argument a process-local state may index by the string itself. */
const MAX_LONE_STRING_LENGTH = 256;

/**
 * Whether a lone argument can index a process-local partition by its own value: `Map` equality
 * (SameValueZero) must then match key equality, which rules out `-0` (a Map does not tell it from 0)
 * and is pointless for long strings.
 */
export function isLoneKeyable(arg: unknown): boolean {
  switch (typeof arg) {
    case "number":
      return !Object.is(arg, -0);
    case "string":
      return arg.length <= MAX_LONE_STRING_LENGTH;
    case "boolean":
    case "undefined":
    case "bigint":
      return true;
    default:
      return arg === null;
  }
}

/** Reads one primitive encoding at `pos`: its value and where it ends, or `undefined`. */
function decodePrimitiveAt(text: string, pos: number): { value: unknown; end: number } | undefined {
  switch (text[pos]) {
    case "u":
      return { value: undefined, end: pos + 1 };
    case "n":
      return { value: null, end: pos + 1 };
    case "T":
      return { value: true, end: pos + 1 };
    case "F":
      return { value: false, end: pos + 1 };
    case "d":
    case "b": {
      const end = text.indexOf(";", pos);
      if (end < 0) return undefined;
      const digits = text.slice(pos + 1, end);
      if (text[pos] === "d") return { value: Number(digits), end: end + 1 };
      return /^-?\d+$/.test(digits) ? { value: BigInt(digits), end: end + 1 } : undefined;
    }
    case "s": {
      const colon = text.indexOf(":", pos);
      const length = colon < 0 ? NaN : Number(text.slice(pos + 1, colon));
      if (!Number.isInteger(length) || colon + 1 + length > text.length) return undefined;
      return { value: text.slice(colon + 1, colon + 1 + length), end: colon + 1 + length };
    }
    default:
      return undefined;
  }
}

/**
 * The inverse of the encoding of `count` keyable primitive arguments: given the argument part of a
 * key, returns the values when it is exactly `A<count>:` followed by their canonical encodings
 * (each one {@link isLoneKeyable} accepts), otherwise `undefined`.
 */
export function decodePrimitiveArguments(argumentsPart: string, count: number): unknown[] | undefined {
  const prefix = `A${count}:`;
  if (!argumentsPart.startsWith(prefix)) return undefined;
  const values: unknown[] = [];
  let pos = prefix.length;
  for (let i = 0; i < count; i++) {
    const decoded = decodePrimitiveAt(argumentsPart, pos);
    if (decoded === undefined || !isLoneKeyable(decoded.value)) return undefined;
    // Only the canonical spelling decodes, so a key never aliases another one.
    if (encodePrimitive(decoded.value) !== argumentsPart.slice(pos, decoded.end)) return undefined;
    values.push(decoded.value);
    pos = decoded.end;
  }
  return pos === argumentsPart.length ? values : undefined;
}
