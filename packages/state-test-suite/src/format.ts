import { inspect } from "node:util";

/** A short, one-line rendering of a value for messages: never megabytes of a large value. */
export function preview(value: unknown): string {
  const text = inspect(value, { depth: 2, maxArrayLength: 6, maxStringLength: 60, breakLength: Infinity });
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A key for messages: escaped (so NUL, newlines and lone surrogates are visible) and shortened. */
export function showKey(key: string): string {
  if (key.length <= 80) return JSON.stringify(key);
  return `${JSON.stringify(key.slice(0, 60))}…${JSON.stringify(key.slice(-12))} (${key.length} chars)`;
}
