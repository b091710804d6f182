import { isLoneKeyable } from "./keyable.js";

/** Orders strings by UTF-16 code units, as the key format sorts object keys, Map entries and Set items. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `s` + length in UTF-16 code units + `:` + the string as is. */
export function encodeString(value: string): string {
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
