/**
 * What `node:v8` gives back exactly as it was given: plain objects and arrays, primitives, and the
 * built-ins it knows (Date, RegExp, Map, Set, ArrayBuffer, typed arrays, DataView, Buffer, the
 * primitive wrappers, and the native Error classes). Everything else comes back changed, silently: a
 * class instance as a plain object (its methods gone), a `URL` as `{}`, an Error subclass as a plain
 * `Error`, symbol-keyed properties and extra properties of built-ins dropped, a RegExp's `lastIndex`
 * reset. Such values are refused before they are stored, so a hit never returns something other than
 * what the function did.
 *
 * Not checked, because finding them would cost far more than the serialization: named properties
 * added to a typed array, `Buffer` or `DataView` (listing an object's own keys lists every element:
 * 240 ms for a 1 MB `Buffer`); and, on any object, getters (they come back as data properties
 * holding the value read), non-enumerable own properties and frozen or sealed states.
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

function refuse(path: string, change: Change): never {
  throw new TypeError(
    `v8Serializer: ${path} is ${change[0]}, which node:v8 would give back as ${change[1]}; return plain data ` +
      `(objects, arrays, Map, Set, Date…) or give the state a serializer that handles it (option \`serializer\`)`,
  );
}

/** What `node:v8` would change about one object (its children aside): what it is, and what it would come back as. */
type Change = readonly [what: string, comesBackAs: string];

/** Whether an own key is an array index ("0", "1", …, no leading zeros). */
const isIndexKey = (key: string): boolean => /^(0|[1-9]\d*)$/.test(key);

/** What `node:v8` restores of an Error besides its class: these own properties, and no others. */
const ERROR_OWN_KEYS: ReadonlySet<string> = new Set(["stack", "message", "cause"]);

/**
 * The own string keys of an opaque built-in that `node:v8` would drop: an Error's others than its
 * stack, message and cause (enumerable or not, as a `code` set by `Object.defineProperty`), a String
 * object's other than its indices. Typed arrays, `Buffer`s and `DataView`s are not listed (see the
 * file's comment).
 */
function extraKeys(value: object): string[] {
  if (ArrayBuffer.isView(value)) return [];
  if (value instanceof Error) return Object.getOwnPropertyNames(value).filter((key) => !ERROR_OWN_KEYS.has(key));
  const indexed = value instanceof String;
  return Object.keys(value).filter((key) => !(indexed && isIndexKey(key)));
}

/** The own properties `node:v8` would drop from `value`: symbol keys, and any extra key of an opaque built-in. */
function droppedKeys(value: object, opaque: boolean): Change | undefined {
  if (Object.getOwnPropertySymbols(value).length > 0) return [`a ${className(value)} with symbol-keyed properties`, "one without them"];
  if (!opaque) return undefined;
  if (value instanceof RegExp && value.lastIndex !== 0) return [`a RegExp with lastIndex ${value.lastIndex}`, "one with lastIndex 0"];
  const extra = extraKeys(value);
  if (extra.length === 0) return undefined;
  return [`a ${className(value)} with extra properties (${extra.slice(0, 3).join(", ")})`, `a ${className(value)} without them`];
}

/** What `node:v8` would change about `value` itself, whose prototype is `proto`; `undefined` when nothing. */
function changeOf(value: object, proto: object | null): Change | undefined {
  if (proto === Array.prototype || proto === Object.prototype) return droppedKeys(value, false);
  if (proto === null) return ["an object without a prototype", "a plain object (with Object.prototype)"];
  if (proto === Map.prototype || proto === Set.prototype || OPAQUE.some((ctor) => proto === ctor.prototype)) return droppedKeys(value, true);
  if (value instanceof Error) {
    if (!NATIVE_ERRORS.some((ctor) => proto === ctor.prototype)) return [`a ${className(value)} (an Error subclass)`, "a plain Error"];
    return droppedKeys(value, true);
  }
  return [`a ${className(value)} instance`, "a plain object without its class or methods"];
}

/** How a parent holds a child: the steps of a path. */
const StepKind = { Root: 0, Property: 1, Index: 2, MapKey: 3, MapValue: 4, SetItem: 5 } as const;
type StepKind = (typeof StepKind)[keyof typeof StepKind];

/** A walk that receives each child of an object, with how the object holds it (a key, an index, a position). */
interface Walk {
  push(child: unknown, step: string | number, kind: StepKind): void;
}

/** Hands `walk` each value `value` holds that `node:v8` serializes (an object `changeOf` passed). */
function forEachChild(value: object, proto: object | null, walk: Walk): void {
  if (proto === Array.prototype) {
    const array = value as unknown[];
    const keys = Object.keys(array);
    // Own keys list the indices in order, then any other property: when the last one is the last
    // index there is nothing but elements (holes are skipped either way).
    if (keys.length === 0 || keys[keys.length - 1] === String(array.length - 1)) {
      for (let i = 0; i < array.length; i++) walk.push(array[i], i, StepKind.Index);
    } else {
      for (const key of keys) walk.push(array[key as unknown as number], key, isIndexKey(key) ? StepKind.Index : StepKind.Property);
    }
  } else if (proto === Object.prototype) {
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) walk.push((value as Record<string, unknown>)[keys[i]!], keys[i]!, StepKind.Property);
  } else if (proto === Map.prototype) {
    let i = 0;
    for (const [key, item] of value as Map<unknown, unknown>) {
      walk.push(key, i, StepKind.MapKey);
      walk.push(item, i++, StepKind.MapValue);
    }
  } else if (proto === Set.prototype) {
    let i = 0;
    for (const item of value as Set<unknown>) walk.push(item, i++, StepKind.SetItem);
  } else if (value instanceof Error && "cause" in value) {
    walk.push(value.cause, "cause", StepKind.Property);
  }
}

/**
 * Throws a `TypeError` naming the path and class of the first part of `root` that `node:v8` would not
 * restore as it was. Iterative (no recursion limit); shared and cyclic references are visited once.
 * Only objects are visited (primitives always come back as they were); the walk keeps nothing but the
 * objects still to visit, and a path is only worked out to refuse.
 */
export function assertV8Faithful(root: unknown): void {
  if (typeof root !== "object" || root === null) return;
  const walk = new ObjectWalk(root);
  for (let value = walk.next(); value !== undefined; value = walk.next()) {
    const proto = Object.getPrototypeOf(value) as object | null;
    const change = changeOf(value, proto);
    if (change !== undefined) refuse(pathTo(root, value), change);
    forEachChild(value, proto, walk);
  }
}

/** The objects still to visit, each once (shared and cyclic references included). */
class ObjectWalk implements Walk {
  readonly #stack: object[];
  readonly #seen = new Set<object>();

  constructor(root: object) {
    this.#stack = [root];
  }

  push(child: unknown): void {
    if (typeof child === "object" && child !== null && !this.#seen.has(child)) this.#stack.push(child);
  }

  /** The next object not visited yet, or `undefined` when the walk is done. */
  next(): object | undefined {
    while (this.#stack.length > 0) {
      const value = this.#stack.pop()!;
      if (this.#seen.has(value)) continue;
      this.#seen.add(value);
      return value;
    }
    return undefined;
  }
}

/** Where a value sits in the root: its parent's frame and how the parent holds it. */
interface Frame {
  readonly value: object;
  readonly parent: Frame | undefined;
  readonly step: string | number;
  readonly kind: StepKind;
}

/**
 * The path from `root` to `target` that {@link assertV8Faithful}'s walk took: the same walk, in the
 * same order, keeping each object's parent (only run to name what it refuses).
 */
function pathTo(root: object, target: object): string {
  const walk = new PathWalk(root);
  for (let frame = walk.next(); frame !== undefined; frame = walk.next()) {
    if (frame.value === target) return pathOf(frame);
    forEachChild(frame.value, Object.getPrototypeOf(frame.value) as object | null, walk);
  }
  return "the value";
}

/** {@link ObjectWalk} keeping, for each object, its parent's frame and how the parent holds it. */
class PathWalk implements Walk {
  readonly #stack: Frame[];
  readonly #seen = new Set<object>();
  /** The frame whose children are being pushed. */
  #parent: Frame | undefined = undefined;

  constructor(root: object) {
    this.#stack = [{ value: root, parent: undefined, step: "", kind: StepKind.Root }];
  }

  push(child: unknown, step: string | number, kind: StepKind): void {
    if (typeof child === "object" && child !== null && !this.#seen.has(child)) this.#stack.push({ value: child, parent: this.#parent, step, kind });
  }

  next(): Frame | undefined {
    while (this.#stack.length > 0) {
      const frame = this.#stack.pop()!;
      if (this.#seen.has(frame.value)) continue;
      this.#seen.add(frame.value);
      this.#parent = frame;
      return frame;
    }
    return undefined;
  }
}

function pathOf(frame: Frame): string {
  const steps: string[] = [];
  for (let at: Frame | undefined = frame; at !== undefined; at = at.parent) {
    if (at.kind === StepKind.Root) steps.push("the value");
    else if (at.kind === StepKind.Property) steps.push(`.${String(at.step)}`);
    else if (at.kind === StepKind.Index) steps.push(`[${String(at.step)}]`);
    else if (at.kind === StepKind.MapKey) steps.push(` key #${String(at.step)}`);
    else if (at.kind === StepKind.MapValue) steps.push(` value #${String(at.step)}`);
    else steps.push(` item #${String(at.step)}`);
  }
  return steps.reverse().join("");
}
