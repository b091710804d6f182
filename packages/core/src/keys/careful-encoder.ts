import { types } from "node:util";
import { UnsupportedArgumentError } from "../errors.js";
import { byteView, hex, littleEndianBytes, typedArrayNames } from "./binary.js";
import { builtInBrands, isIndexOf } from "./built-ins.js";
import { MAX_ARRAY_LENGTH } from "./fast-encoder.js";
import { compareCodeUnits, encodePrimitive, encodeString } from "./primitive.js";

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

/** A child that is written as its prefix alone: an array's hole. */
const HOLE: unique symbol = Symbol("hole");

/**
 * A child that stands for the value being encoded, without its extra properties: the last child of
 * a `P` frame, and the `o` part of an arguments object. Its object is already open.
 */
interface Inner {
  readonly object: object;
  readonly asPlainObject: boolean;
}

/** The Inner children made so far (a WeakSet, because `instanceof` would run a Proxy's traps). */
const inners = new WeakSet<object>();

function inner(object: object, asPlainObject: boolean): Inner {
  const made = { object, asPlainObject };
  inners.add(made);
  return made;
}

/** A container being encoded: each child is written after its prefix, in order. */
interface Frame {
  /** Held in the open set (for the cycle check) until the frame ends. */
  readonly object: object | undefined;
  readonly count: number;
  child(index: number): unknown;
  prefix(index: number): string;
  /** How a message shows the child in the path. */
  label(index: number): string;
  index: number;
  /** 0: children are written in order; n: every n children form one item, and items are sorted. */
  readonly group: number;
  readonly items: string[];
  /** The output before the frame's items (sorted frames encode each item on its own). */
  saved: string;
}

/** A path longer than this is shown by its two ends in messages. */
const MAX_PATH_SHOWN = 24;

/**
 * The careful encoder: every value the key format supports, with the path inside the argument
 * tracked for messages and the open objects for cycles. It keeps its own stack of containers
 * instead of recursing, so nesting depth is bounded by memory, not by the call stack.
 */
export class Encoder {
  private out = "";
  private readonly stack: Frame[] = [];
  private readonly open = new Set<object>();
  /** Labels of the value being encoded and of each container above it, outermost first. */
  private readonly path: string[] = [];

  constructor(private readonly where: string) {}

  /** Encodes `value`, naming it `label` (`argument 0`, `` `this` ``, or nothing) in messages. */
  encodeAt(label: string, value: unknown): string {
    this.out = "";
    this.path.length = 0;
    if (label !== "") this.path.push(label);
    try {
      if (this.visit(value)) while (this.stack.length > 0) this.step();
      return this.out;
    } finally {
      this.stack.length = 0;
      this.open.clear();
      this.path.length = 0;
      this.out = "";
    }
  }

  /** Writes the next child of the innermost container, or ends it. */
  private step(): void {
    const frame = this.stack[this.stack.length - 1]!;
    if (frame.index < frame.count) {
      const index = frame.index++;
      this.out += frame.prefix(index);
      const value = frame.child(index);
      if (value !== HOLE) {
        this.path.push(frame.label(index));
        // A container child ends the child when its own frame ends.
        if (this.visit(value)) return;
        this.path.pop();
      }
      this.endChild(frame, index);
      return;
    }
    this.stack.pop();
    if (frame.object !== undefined) this.open.delete(frame.object);
    if (frame.group > 0) this.out = frame.saved + frame.items.sort(compareCodeUnits).join("");
    const parent = this.stack[this.stack.length - 1];
    if (parent !== undefined) {
      this.path.pop();
      this.endChild(parent, parent.index - 1);
    }
  }

  private endChild(frame: Frame, index: number): void {
    if (frame.group > 0 && (index + 1) % frame.group === 0) {
      frame.items.push(this.out);
      this.out = "";
    }
  }

  private push(
    object: object | undefined,
    head: string,
    count: number,
    child: (index: number) => unknown,
    prefix: (index: number) => string,
    label: (index: number) => string,
    group = 0,
  ): true {
    if (object !== undefined) this.open.add(object);
    this.out += head;
    const frame: Frame = { object, count, child, prefix, label, index: 0, group, items: [], saved: "" };
    if (group > 0) {
      frame.saved = this.out;
      this.out = "";
    }
    this.stack.push(frame);
    return true;
  }

  /** Writes a leaf, or opens a frame for a container (and returns true). */
  private visit(value: unknown): boolean {
    const primitive = encodePrimitive(value);
    if (primitive !== undefined) {
      this.out += primitive;
      return false;
    }
    if (typeof value === "object" && value !== null && inners.has(value)) {
      const { object, asPlainObject } = value as Inner;
      return asPlainObject ? this.visitPlainObject(object, undefined) : this.visitBase(object, undefined);
    }
    if (typeof value !== "object" || value === null) return this.fail(value, "functions and symbols have no value to compare");
    if (this.open.has(value)) return this.fail(value, "it contains itself: a cycle");
    const proto = this.prototypeOf(value);
    this.rejectSymbolKeys(value);
    if (proto === Object.prototype || proto === null) {
      return types.isArgumentsObject(value) ? this.visitArguments(value as IArguments) : this.visitPlainObject(value, value);
    }
    const extras = this.extraProperties(value, proto);
    if (extras.length === 0) return this.visitBase(value, value);
    // `P`, the extra properties sorted by key, then the value itself without them.
    extras.sort(([a], [b]) => compareCodeUnits(a, b));
    const base = inner(value, false);
    return this.push(
      value,
      `P${extras.length}:`,
      extras.length + 1,
      (i) => (i < extras.length ? extras[i]![1] : base),
      (i) => (i < extras.length ? encodeString(extras[i]![0]) : ""),
      (i) => (i < extras.length ? propertyLabel(extras[i]![0]) : ""),
    );
  }

  private prototypeOf(value: object): object | null {
    let proto: object | null;
    try {
      proto = Object.getPrototypeOf(value) as object | null;
    } catch (error) {
      if (types.isProxy(value)) return this.fail(value, "its target is gone", "revoked Proxy");
      throw error;
    }
    const brand = builtInBrands.get(proto as object);
    if (brand !== undefined && !brand.is(value)) {
      if (types.isProxy(value)) {
        return this.fail(value, `a Proxy hides the ${brand.name}'s internal state, which is what the key is made of`, `Proxy of a ${typeName(value)}`);
      }
      return this.fail(value, `it inherits from ${brand.name}.prototype but is not a ${brand.name}`);
    }
    return proto;
  }

  /** Own enumerable properties that are not elements (and a RegExp's lastIndex), as [key, value]. */
  private extraProperties(value: object, proto: object | null): Array<[string, unknown]> {
    // Named properties of a typed array or Buffer are left out: listing them means listing every
    // index (~90 ns per element), and such properties are vanishingly rare (docs/KEY_FORMAT.md).
    if (ArrayBuffer.isView(value) && !types.isDataView(value)) return [];
    const keys = Object.keys(value);
    const named = proto === Array.prototype ? keys.filter((key) => !isIndexOf(value as unknown[], key)) : keys;
    const extras = named.map((key): [string, unknown] => [key, (value as Record<string, unknown>)[key]]);
    // `lastIndex` is an own, non-enumerable property of every RegExp, so no enumerable key can
    // take its name; it decides where exec/test/match start for sticky and global patterns.
    if (proto === RegExp.prototype && !Object.is((value as RegExp).lastIndex, 0)) extras.push(["lastIndex", (value as RegExp).lastIndex]);
    return extras;
  }

  private visitPlainObject(object: object, open: object | undefined): true {
    const keys = Object.keys(object).sort(compareCodeUnits);
    return this.push(
      open,
      `o${keys.length}:`,
      keys.length,
      (i) => (object as Record<string, unknown>)[keys[i]!],
      (i) => encodeString(keys[i]!),
      (i) => propertyLabel(keys[i]!),
    );
  }

  /**
   * A strict-mode arguments object: `L`, its `length`, then its own enumerable properties as a
   * plain object. A sloppy-mode one is refused: its `callee` is the function itself and its
   * items alias the parameters.
   */
  private visitArguments(args: IArguments): true {
    if (typeof Object.getOwnPropertyDescriptor(args, "callee")?.get !== "function") {
      return this.fail(args, "its callee is the function itself; pass Array.from(arguments) instead", "sloppy-mode arguments object");
    }
    const children = [args.length, inner(args, true)];
    return this.push(
      args,
      "L",
      2,
      (i) => children[i],
      () => "",
      (i) => (i === 0 ? ".length" : ""),
    );
  }

  /** The value without its extra properties: a frame for arrays, Maps and Sets, else a leaf. */
  private visitBase(value: object, open: object | undefined): boolean {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Array.prototype) {
      const array = value as unknown[];
      if (array.length > MAX_ARRAY_LENGTH) {
        return this.fail(
          value,
          `a key writes a mark per element, holes included, and holds at most ${MAX_ARRAY_LENGTH}`,
          `${array.length}-element array`,
        );
      }
      return this.push(
        open,
        `a${array.length}:`,
        array.length,
        // A hole (sparse array) and an explicit undefined are different arguments.
        (i) => (i in array ? array[i] : HOLE),
        (i) => (i in array ? "" : "h"),
        (i) => `[${i}]`,
      );
    }
    if (proto === Map.prototype) {
      const entries = [...(value as Map<unknown, unknown>)];
      // Entries are sorted by their encoding: a Map's insertion order does not change its content.
      return this.push(
        open,
        `M${entries.length}:`,
        entries.length * 2,
        (i) => entries[i >> 1]![i & 1],
        () => "",
        (i) => {
          const key = entries[i >> 1]![0];
          return i & 1 ? `.get(${typeof key === "string" ? JSON.stringify(key) : "…"})` : ".<map key>";
        },
        2,
      );
    }
    if (proto === Set.prototype) {
      const items = [...(value as Set<unknown>)];
      return this.push(
        open,
        `S${items.length}:`,
        items.length,
        (i) => items[i],
        () => "",
        () => ".<set item>",
        1,
      );
    }
    this.out += this.encodeLeaf(value, proto);
    return false;
  }

  /** A built-in without children: Date, binary data, RegExp. */
  private encodeLeaf(value: object, proto: object | null): string {
    if (proto === Date.prototype) {
      const time = (value as Date).getTime();
      return `D${Number.isNaN(time) ? "NaN" : time};`;
    }
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

  private rejectSymbolKeys(object: object): void {
    const symbol = Object.getOwnPropertySymbols(object).find((s) => Object.prototype.propertyIsEnumerable.call(object, s));
    if (symbol !== undefined) this.fail(object, `it has an enumerable symbol key, ${symbol.toString()}`);
  }

  private fail(value: unknown, reason: string, type = typeName(value)): never {
    throw new UnsupportedArgumentError(
      `${this.where}${this.describePath()} is a ${type}, which has no faithful cache key (${reason}); ` +
        `pass a \`key: (...args) => …\` option to Mime to say how to key this call`,
    );
  }

  private describePath(): string {
    const path = this.path;
    if (path.length === 0) return "";
    if (path.length <= MAX_PATH_SHOWN) return ` ${path.join("")}`;
    const half = MAX_PATH_SHOWN / 2;
    return ` ${path.slice(0, half).join("")}…${path.length - MAX_PATH_SHOWN} more levels…${path.slice(-half).join("")}`;
  }
}
