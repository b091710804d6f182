/**
 * Which arguments may index a process-local partition by their own value instead of by their
 * encoded key. A JavaScript `Map` compares keys by SameValueZero, so this is safe exactly when
 * SameValueZero agrees with key equality: it rules out `-0` (a `Map` does not tell it from `0`,
 * the key format does) and objects (compared by identity, keyed by value). Long strings are left to
 * the encoded key because a partition holding them by value gains nothing.
 */

/** The longest string argument a process-local state may index by the string itself. */
const MAX_LONE_STRING_LENGTH = 256;

/**
 * Whether a lone argument can index a process-local partition by its own value: `Map` equality
 * (SameValueZero) must then match key equality, which rules out `-0` (a Map does not tell it from 0)
 * and is pointless for long strings. The full rule; `isFastKeyable` (internal) is its hot-path subset.
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

/**
 * The hot-path check, small enough for V8 to inline: numbers other than `-0` and strings of at most
 * {@link MAX_LONE_STRING_LENGTH} characters. It is a subset of {@link isLoneKeyable}: whatever it
 * accepts, `isLoneKeyable` accepts too, so a caller may try it first and fall back to the full rule.
 */
export function isFastKeyable(value: unknown): boolean {
  return (typeof value === "number" && (value !== 0 || 1 / value > 0)) || (typeof value === "string" && value.length <= MAX_LONE_STRING_LENGTH);
}
