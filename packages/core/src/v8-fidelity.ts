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

/** The own string keys of an opaque built-in that `node:v8` would drop (typed arrays and String objects list their contents as index keys). */
function extraKeys(value: object): string[] {
  const indexed = ArrayBuffer.isView(value) || value instanceof String;
  return Object.keys(value).filter((key) => !(indexed && /^(0|[1-9]\d*)$/.test(key)));
}

/** Whether `node:v8` would drop own properties of `value`: symbol keys, or any extra key of an opaque built-in. */
function hasKeysDropped(value: object, opaque: boolean): boolean {
  return Object.getOwnPropertySymbols(value).length > 0 || (opaque && extraKeys(value).length > 0);
}

/** Refuses `value` for the own properties `node:v8` would drop (see {@link hasKeysDropped}). */
function checkOwnKeys(value: object, frame: Frame, opaque: boolean): void {
  if (Object.getOwnPropertySymbols(value).length > 0) refuse(pathOf(frame), `a ${className(value)} with symbol-keyed properties`, "one without them");
  if (!opaque) return;
  const extra = extraKeys(value);
  if (extra.length > 0) refuse(pathOf(frame), `a ${className(value)} with extra properties (${extra.slice(0, 3).join(", ")})`, `a ${className(value)} without them`);
}

/** Where a value sits in the root: its parent's frame and how the parent holds it (path text built only to refuse). */
interface Frame {
  readonly value: object;
  readonly parent: Frame | undefined;
  /** A property name (`.key`), an array index (`[i]`), or a Map/Set/cause position (its text). */
  readonly step: string | number;
  readonly kind: StepKind;
}

const StepKind = { Root: 0, Property: 1, Index: 2, Text: 3 } as const;
type StepKind = (typeof StepKind)[keyof typeof StepKind];

function pathOf(frame: Frame): string {
  const steps: string[] = [];
  for (let at: Frame | undefined = frame; at !== undefined; at = at.parent) {
    if (at.kind === StepKind.Root) steps.push("the value");
    else if (at.kind === StepKind.Property) steps.push(`.${String(at.step)}`);
    else if (at.kind === StepKind.Index) steps.push(`[${String(at.step)}]`);
    else steps.push(` ${String(at.step)}`);
  }
  return steps.reverse().join("");
}

/**
 * Throws a `TypeError` naming the path and class of the first part of `root` that `node:v8` would not
 * restore as it was. Iterative (no recursion limit); shared and cyclic references are visited once.
 * Only objects are visited (primitives always come back as they were); the walk keeps nothing but the
 * objects still to visit, and a path is only worked out to refuse.
 */
export function assertV8Faithful(root: unknown): void {
  if (typeof root !== "object" || root === null) return;
  if (!isV8Faithful(root)) refuseFirstUnfaithful(root);
}

/** Pushes `child` to visit when it is an object not yet seen. */
function pushObject(stack: object[], seen: Set<object>, child: unknown): void {
  if (typeof child === "object" && child !== null && !seen.has(child)) stack.push(child);
}

/** Whether no part of `root` would come back changed (the checks of {@link refuseFirstUnfaithful}, without paths). */
function isV8Faithful(root: object): boolean {
  const stack: object[] = [root];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Array.prototype) {
      if (Object.getOwnPropertySymbols(value).length > 0) return false;
      const array = value as unknown[];
      const keys = Object.keys(array);
      if (keys.length === 0 || keys[keys.length - 1] === String(array.length - 1)) {
        for (let i = 0; i < array.length; i++) pushObject(stack, seen, array[i]);
      } else {
        for (const key of keys) pushObject(stack, seen, array[key as unknown as number]);
      }
      continue;
    }
    if (proto === Object.prototype) {
      if (Object.getOwnPropertySymbols(value).length > 0) return false;
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) pushObject(stack, seen, (value as Record<string, unknown>)[keys[i]!]);
      continue;
    }
    // Everything else is rare in cached data: the careful walk decides (and names what it refuses).
    if (!isFaithfulBuiltIn(value, proto, stack, seen)) return false;
  }
  return true;
}

/** Map, Set, opaque built-ins and native errors: whether they come back as they are (their children are pushed). */
function isFaithfulBuiltIn(value: object, proto: object | null, stack: object[], seen: Set<object>): boolean {
  if (proto === null) return false;
  if (proto === Map.prototype || proto === Set.prototype) {
    if (hasKeysDropped(value, true)) return false;
    for (const item of value as Map<unknown, unknown> | Set<unknown>) {
      if (Array.isArray(item) && proto === Map.prototype) {
        pushObject(stack, seen, item[0]);
        pushObject(stack, seen, item[1]);
      } else pushObject(stack, seen, item);
    }
    return true;
  }
  if (OPAQUE.some((ctor) => proto === ctor.prototype)) return !hasKeysDropped(value, true);
  if (value instanceof Error) {
    if (!NATIVE_ERRORS.some((ctor) => proto === ctor.prototype) || hasKeysDropped(value, true)) return false;
    if ("cause" in value) pushObject(stack, seen, value.cause);
    return true;
  }
  return false;
}

/**
 * The walk that names what it refuses: the same order as {@link isV8Faithful}, with each object's
 * parent and step kept so that the path can be spelled out. Run only once the fast walk has found
 * something to refuse.
 */
function refuseFirstUnfaithful(root: object): never {
  const stack: Frame[] = [{ value: root, parent: undefined, step: "", kind: StepKind.Root }];
  const seen = new Set<object>();
  const visit = (child: unknown, parent: Frame, step: string | number, kind: StepKind): void => {
    if (typeof child === "object" && child !== null && !seen.has(child)) stack.push({ value: child, parent, step, kind });
  };
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const value = frame.value;
    if (seen.has(value)) continue;
    seen.add(value);
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Array.prototype) {
      checkOwnKeys(value, frame, false);
      const array = value as unknown[];
      const keys = Object.keys(array);
      // Own keys list the indices in order, then any other property: when the last one is the last
      // index there is nothing but elements (holes are skipped either way).
      if (keys.length === 0 || keys[keys.length - 1] === String(array.length - 1)) {
        for (let i = 0; i < array.length; i++) visit(array[i], frame, i, StepKind.Index);
      } else {
        for (const key of keys) visit(array[key as unknown as number], frame, key, /^(0|[1-9]\d*)$/.test(key) ? StepKind.Index : StepKind.Property);
      }
      continue;
    }
    if (proto === Object.prototype) {
      checkOwnKeys(value, frame, false);
      for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key], frame, key, StepKind.Property);
      continue;
    }
    if (proto === null) refuse(pathOf(frame), "an object without a prototype", "a plain object (with Object.prototype)");
    if (proto === Map.prototype || proto === Set.prototype) {
      checkOwnKeys(value, frame, true);
      let i = 0;
      for (const item of value as Map<unknown, unknown> | Set<unknown>) {
        if (Array.isArray(item) && proto === Map.prototype) {
          visit(item[0], frame, `key #${i}`, StepKind.Text);
          visit(item[1], frame, `value #${i}`, StepKind.Text);
        } else visit(item, frame, `item #${i}`, StepKind.Text);
        i++;
      }
      continue;
    }
    if (OPAQUE.some((ctor) => proto === ctor.prototype)) {
      checkOwnKeys(value, frame, true);
      continue;
    }
    if (value instanceof Error) {
      if (!NATIVE_ERRORS.some((ctor) => proto === ctor.prototype)) refuse(pathOf(frame), `a ${className(value)} (an Error subclass)`, "a plain Error");
      checkOwnKeys(value, frame, true);
      if ("cause" in value) visit(value.cause, frame, "cause", StepKind.Property);
      continue;
    }
    refuse(pathOf(frame), `a ${className(value)} instance`, "a plain object without its class or methods");
  }
  throw new TypeError("v8Serializer: the value holds a part node:v8 would not give back as it was");
}
