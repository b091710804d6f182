import { types } from "node:util";
import { typedArrayNames } from "./binary.js";

/**
 * The built-ins the key format reads internal state of (elements, time, entries, bytes, pattern),
 * by prototype, with the check that a value really is one: a Proxy of one, or an object that merely
 * inherits from its prototype, has the prototype but not the internal state.
 */
export const builtInBrands = new Map<object, { name: string; is: (value: object) => boolean }>([
  [Array.prototype, { name: "Array", is: Array.isArray }],
  [Date.prototype, { name: "Date", is: types.isDate }],
  [Map.prototype, { name: "Map", is: types.isMap }],
  [Set.prototype, { name: "Set", is: types.isSet }],
  [RegExp.prototype, { name: "RegExp", is: types.isRegExp }],
  [ArrayBuffer.prototype, { name: "ArrayBuffer", is: types.isArrayBuffer }],
  [DataView.prototype, { name: "DataView", is: types.isDataView }],
  [Buffer.prototype, { name: "Buffer", is: (value) => types.isUint8Array(value) }],
  ...[...typedArrayNames].map(([proto, name]): [object, { name: string; is: (value: object) => boolean }] => [
    proto,
    { name, is: (value) => typedArrayName(value) === name },
  ]),
]);

/** %TypedArray%.prototype[@@toStringTag]: the element type a typed array really has, whatever its prototype. */
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype) as object, Symbol.toStringTag)!.get!;

function typedArrayName(value: object): string | undefined {
  return typedArrayTag.call(value) as string | undefined;
}

/** Whether `key` names an element of `array` (an index below its length), not a named property. */
export function isIndexOf(array: unknown[], key: string): boolean {
  const index = Number(key);
  return index < array.length && String(index >>> 0) === key;
}
