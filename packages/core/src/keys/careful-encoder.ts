import { types } from "node:util";
import { UnsupportedArgumentError } from "../errors.js";
import { byteView, hex, littleEndianBytes, typedArrayNames } from "./binary.js";
import { encodePrimitive, encodeString } from "./primitive.js";

/** Orders strings by UTF-16 code units, as the key format sorts object keys, Map entries and Set items. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `key` names an element of `array` (an index below its length), not a named property. */
function isIndexOf(array: unknown[], key: string): boolean {
  const index = Number(key);
  return index < array.length && String(index >>> 0) === key;
}

/** How a message shows the property `key` in a path: `.name` or `["odd key"]`. */
function propertyLabel(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** How an error message names a value's type. */
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

/**
 * The careful encoder: every value the key format supports, with the path inside the argument
 * tracked for messages and the open objects for cycles.
 */
export class Encoder {
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
    this.rejectSymbolKeys(value);
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === null) {
      return types.isArgumentsObject(value) ? this.encodeArgumentsObject(value as IArguments) : this.encodePlainObject(value);
    }
    if (proto === Array.prototype) {
      const array = value as unknown[];
      const base = this.encodeArray(array);
      return this.encodeExtraProperties(array, Object.keys(array).filter((key) => !isIndexOf(array, key))) + base;
    }
    const base = this.encodeBuiltIn(value, proto);
    // Named properties of a typed array or Buffer are left out: listing them means listing every
    // index (~90 ns per element), and such properties are vanishingly rare (docs/KEY_FORMAT.md).
    if (base[0] === "B" || base[0] === "x") return base;
    const extras: Array<[string, unknown]> = Object.keys(value).map((key) => [key, (value as Record<string, unknown>)[key]]);
    // `lastIndex` is an own, non-enumerable property of every RegExp, so no enumerable key can
    // take its name; it decides where exec/test/match start for sticky and global patterns.
    if (base[0] === "R" && !Object.is((value as RegExp).lastIndex, 0)) extras.push(["lastIndex", (value as RegExp).lastIndex]);
    return this.encodeProperties(extras) + base;
  }

  /** The encoding of a built-in (Date, Map, Set, binary data, RegExp) without its own properties. */
  private encodeBuiltIn(value: object, proto: object | null): string {
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

  private encodeExtraProperties(object: object, keys: string[]): string {
    return this.encodeProperties(keys.map((key) => [key, (object as Record<string, unknown>)[key]]));
  }

  /** `P` + count + `:` + each (key, value) sorted by key, to precede the value they belong to. */
  private encodeProperties(properties: Array<[string, unknown]>): string {
    if (properties.length === 0) return "";
    properties.sort(([a], [b]) => compareCodeUnits(a, b));
    let out = `P${properties.length}:`;
    for (const [key, value] of properties) {
      this.path.push(propertyLabel(key));
      out += encodeString(key) + this.encode(value);
      this.path.pop();
    }
    return out;
  }

  /**
   * A strict-mode arguments object: `L`, its `length`, then its own enumerable properties as a
   * plain object. A sloppy-mode one is refused: its `callee` is the function itself and its
   * items alias the parameters.
   */
  private encodeArgumentsObject(args: IArguments): string {
    if (typeof Object.getOwnPropertyDescriptor(args, "callee")?.get !== "function") {
      return this.fail(args, "its callee is the function itself; pass Array.from(arguments) instead", "sloppy-mode arguments object");
    }
    this.path.push(".length");
    const length = this.encode(args.length);
    this.path.pop();
    return `L${length}${this.encodePlainObject(args)}`;
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
    return out;
  }

  private encodePlainObject(object: object): string {
    const keys = Object.keys(object).sort(compareCodeUnits);
    let out = `o${keys.length}:`;
    for (const key of keys) {
      this.path.push(propertyLabel(key));
      out += encodeString(key) + this.encode((object as Record<string, unknown>)[key]);
      this.path.pop();
    }
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

  private fail(value: unknown, reason: string, type = typeName(value)): never {
    const at = this.path.length > 0 ? ` ${this.path.join("")}` : "";
    throw new UnsupportedArgumentError(
      `${this.where}${at} is a ${type}, which has no faithful cache key (${reason}); ` +
        `pass a \`key: (...args) => …\` option to Mime to say how to key this call`,
    );
  }

  /** Encodes `value`, naming it `label` (`argument 0`, `` `this` ``) in messages. */
  encodeAt(label: string, value: unknown): string {
    this.path.length = 0;
    this.path.push(label);
    try {
      return this.encode(value);
    } finally {
      this.path.length = 0;
    }
  }
}
