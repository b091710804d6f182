import { preview } from "./format.js";

/**
 * Compares a stored value with what a state gave back, by the rules of a structured clone: primitives
 * by `Object.is` (so `NaN` equals `NaN` and `-0` differs from `0`), objects by their built-in type
 * and content, never by prototype identity. Values that crossed `node:v8` or a worker thread come
 * from another realm, where `instanceof` and prototype checks fail; and a `Buffer` comes back as a
 * `Uint8Array`, so byte views compare by type tag and bytes. Shared and circular references must
 * stay shared.
 * @returns `undefined` when equal, otherwise where and how they differ
 */
export function findMismatch(expected: unknown, actual: unknown): string | undefined {
  return new Comparison().compare(expected, actual, "value");
}

function typeTag(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): Uint8Array {
  return ArrayBuffer.isView(view) ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(view);
}

function compareStrings(expected: string, actual: string, path: string): string {
  const length = Math.min(expected.length, actual.length);
  let index = 0;
  while (index < length && expected.charCodeAt(index) === actual.charCodeAt(index)) index++;
  const unit = (text: string) =>
    index < text.length ? `0x${text.charCodeAt(index).toString(16).padStart(4, "0")}` : "the end of the string";
  return (
    `${path} is a string of ${actual.length} chars, expected ${expected.length} chars; they first differ at ` +
    `index ${index}: ${unit(actual)} instead of ${unit(expected)}`
  );
}

class Comparison {
  /** Each object of the expected value, mapped to the object found in its place. */
  private readonly pairs = new Map<object, object>();

  compare(expected: unknown, actual: unknown, path: string): string | undefined {
    if (typeof expected !== "object" || expected === null) {
      if (Object.is(expected, actual)) return undefined;
      if (typeof expected === "string" && typeof actual === "string") return compareStrings(expected, actual, path);
      return `${path} is ${preview(actual)}, expected ${preview(expected)}`;
    }
    if (typeof actual !== "object" || actual === null) return `${path} is ${preview(actual)}, expected ${preview(expected)}`;
    const earlier = this.pairs.get(expected);
    if (earlier !== undefined) {
      return earlier === actual
        ? undefined
        : `${path} should be the same object as an earlier occurrence (a shared or circular reference), but is a copy`;
    }
    this.pairs.set(expected, actual);
    const expectedTag = typeTag(expected);
    const actualTag = typeTag(actual);
    if (expectedTag !== actualTag) return `${path} is a ${actualTag} (${preview(actual)}), expected a ${expectedTag}`;
    return this.compareObjects(expectedTag, expected, actual, path);
  }

  private compareObjects(tag: string, expected: object, actual: object, path: string): string | undefined {
    if (ArrayBuffer.isView(expected) || tag === "ArrayBuffer") {
      return this.compareBytes(expected as ArrayBufferView | ArrayBuffer, actual as ArrayBufferView | ArrayBuffer, path);
    }
    switch (tag) {
      case "Date": {
        const [e, a] = [(expected as Date).getTime(), (actual as Date).getTime()];
        return Object.is(e, a) ? undefined : `${path} is the Date ${a} (ms), expected ${e}`;
      }
      case "RegExp": {
        const [e, a] = [expected as RegExp, actual as RegExp];
        return e.source === a.source && e.flags === a.flags ? undefined : `${path} is ${String(a)}, expected ${String(e)}`;
      }
      case "Number":
      case "String":
      case "Boolean":
      case "BigInt":
        return this.compare((expected as { valueOf(): unknown }).valueOf(), (actual as { valueOf(): unknown }).valueOf(), `${path}.valueOf()`);
      case "Map":
        return this.compareMaps(expected as Map<unknown, unknown>, actual as Map<unknown, unknown>, path);
      case "Set":
        return this.compareSequences([...(expected as Set<unknown>)], [...(actual as Set<unknown>)], `${path} (a Set)`, "item");
      case "Array":
        return this.compareArrays(expected as unknown[], actual as unknown[], path);
      default:
        return this.comparePlainObjects(expected, actual, path);
    }
  }

  private compareBytes(expected: ArrayBufferView | ArrayBuffer, actual: ArrayBufferView | ArrayBuffer, path: string): string | undefined {
    const [e, a] = [bytesOf(expected), bytesOf(actual)];
    if (e.length !== a.length) return `${path} has ${a.length} bytes, expected ${e.length}`;
    for (let i = 0; i < e.length; i++) {
      if (e[i] !== a[i]) return `${path} differs at byte ${i}: ${a[i]} instead of ${e[i]}`;
    }
    return undefined;
  }

  private compareMaps(expected: Map<unknown, unknown>, actual: Map<unknown, unknown>, path: string): string | undefined {
    // A structured clone keeps insertion order, and keys that are objects can only be matched by
    // position, so entries compare in order.
    return this.compareSequences([...expected], [...actual], `${path} (a Map)`, "entry");
  }

  private compareSequences(expected: unknown[], actual: unknown[], path: string, what: string): string | undefined {
    if (expected.length !== actual.length) return `${path} has ${actual.length} ${what}s, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const mismatch = this.compare(expected[i], actual[i], `${path}, ${what} #${i}`);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }

  private compareArrays(expected: unknown[], actual: unknown[], path: string): string | undefined {
    if (expected.length !== actual.length) return `${path} is an array of ${actual.length} elements, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const [inExpected, inActual] = [i in expected, i in actual];
      if (inExpected !== inActual) {
        return `${path}[${i}] is ${inActual ? "present" : "a hole"}, expected ${inExpected ? "an element" : "a hole (sparse array)"}`;
      }
      const mismatch = this.compare(expected[i], actual[i], `${path}[${i}]`);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }

  private comparePlainObjects(expected: object, actual: object, path: string): string | undefined {
    const expectedKeys = Object.keys(expected);
    const actualKeys = new Set(Object.keys(actual));
    for (const key of expectedKeys) {
      const at = `${path}[${JSON.stringify(key)}]`;
      if (!actualKeys.has(key)) return `${at} is missing`;
      actualKeys.delete(key);
      const mismatch = this.compare(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        at,
      );
      if (mismatch !== undefined) return mismatch;
    }
    const [extra] = actualKeys;
    return extra === undefined ? undefined : `${path} has an unexpected property ${JSON.stringify(extra)}`;
  }
}
