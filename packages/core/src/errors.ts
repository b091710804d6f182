/**
 * Every error Mimic throws or reports carries a stable `code`. Errors about a bad argument or option
 * are also real `TypeError`s / `RangeError`s (what JavaScript users expect to catch), so they cannot
 * inherit from {@link MimicError}; they carry a brand instead, and `instanceof MimicError` is true for
 * all of them.
 */
const brand: unique symbol = Symbol.for("mimic.error");

/** Stable identifiers of every error Mimic produces. */
export type MimicErrorCode =
  | "MIMIC_INVALID_OPTION"
  | "MIMIC_INVALID_TTL"
  | "MIMIC_UNSUPPORTED_ARGUMENT"
  | "MIMIC_STATE_CONTRACT"
  | "MIMIC_CONFIG"
  | "MIMIC_STATE_ERROR"
  | "MIMIC_STATE_TIMEOUT"
  | "MIMIC_STATE_CLOSED"
  | "MIMIC_CORRUPT_ENTRY"
  | "MIMIC_TIMEOUT"
  | "MIMIC_BATCH_LENGTH"
  | (string & {});

/** What every Mimic error carries, including those that extend `TypeError`/`RangeError`. */
export interface Branded {
  /** A stable identifier to branch on. */
  readonly code: MimicErrorCode;
}

/**
 * Where an error records the names of the Mimic classes it is an instance of. `instanceof` compares
 * these names rather than prototypes, so that an error thrown by the CommonJS build of Mimic (or of
 * a state package) is an instance of the class imported from the ESM build in the same process,
 * and the other way round.
 */
const lineage: unique symbol = Symbol.for("mimic.error.lineage");

/** The class names from `ctor` up to (not including) the built-in error it extends. */
function lineageOf(ctor: Function): string[] {
  const names: string[] = [];
  for (let current: unknown = ctor; typeof current === "function" && current !== Error && current !== TypeError && current !== RangeError; current = Object.getPrototypeOf(current)) {
    names.push((current as Function).name);
  }
  return names;
}

function stamp(error: Error & Branded, name: string, ctor: Function): void {
  Object.defineProperty(error, brand, { value: true });
  Object.defineProperty(error, lineage, { value: lineageOf(ctor) });
  Object.defineProperty(error, "name", { value: name, configurable: true, writable: true });
}

/** `instanceof` for every Mimic error class (and its subclasses in state packages), across module copies. */
function isInstance(ctor: Function, value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const names = (value as Record<symbol, unknown>)[lineage];
  return Array.isArray(names) ? names.includes(ctor.name) : Function.prototype[Symbol.hasInstance].call(ctor, value);
}

/**
 * Base class of Mimic's errors. `error instanceof MimicError` is also true for Mimic's
 * {@link InvalidOptionError}, {@link InvalidTtlError}, {@link UnsupportedArgumentError} and
 * {@link StateContractError}, which extend `TypeError`/`RangeError`.
 */
export class MimicError extends Error {
  /** A stable identifier to branch on; the message may change between versions, the code does not. */
  readonly code: MimicErrorCode;

  constructor(code: MimicErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    stamp(this, new.target.name, new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === MimicError) {
      return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
    }
    return isInstance(this, value);
  }
}

/** A `Mime` option or a `Config` field has a wrong type or an unknown name. Code `MIMIC_INVALID_OPTION`. */
export class InvalidOptionError extends TypeError implements Branded {
  readonly code: MimicErrorCode = "MIMIC_INVALID_OPTION";
  constructor(message: string) {
    super(message);
    stamp(this, "InvalidOptionError", new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/**
 * A ttl is negative, NaN or infinite (a `RangeError`), or not a number at all (a `TypeError`, thrown
 * as {@link InvalidOptionError}). Code `MIMIC_INVALID_TTL`.
 */
export class InvalidTtlError extends RangeError implements Branded {
  readonly code: MimicErrorCode = "MIMIC_INVALID_TTL";
  constructor(message: string) {
    super(message);
    stamp(this, "InvalidTtlError", new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/**
 * An argument has no faithful cache key: a function, a symbol, a class instance, a cycle, an object
 * with enumerable symbol keys, a sloppy-mode `arguments` object, or a `Proxy` of a `Date`, `Map`,
 * `Set`, `RegExp` or binary data (whose internal state the proxy hides). The message names the
 * argument position, the path inside it and the type (`docs/KEY_FORMAT.md` lists what is keyed).
 * Code `MIMIC_UNSUPPORTED_ARGUMENT`.
 */
export class UnsupportedArgumentError extends TypeError implements Branded {
  readonly code: MimicErrorCode = "MIMIC_UNSUPPORTED_ARGUMENT";
  constructor(message: string) {
    super(message);
    stamp(this, "UnsupportedArgumentError", new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/**
 * A state class or instance does not implement `IState`; the message names the missing member.
 * Code `MIMIC_STATE_CONTRACT`.
 */
export class StateContractError extends TypeError implements Branded {
  readonly code: MimicErrorCode = "MIMIC_STATE_CONTRACT";
  constructor(message: string) {
    super(message);
    stamp(this, "StateContractError", new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }
}

/**
 * A combination that cannot work: a sync function on a state without sync operations, a method on a
 * shared state without a `key` option, a state that needs an option it was not given.
 * Code `MIMIC_CONFIG`.
 */
export class ConfigError extends MimicError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MIMIC_CONFIG", message, options);
  }
}

/**
 * A cache backend failed (connection refused, disk full, a value that does not decode…). Mimic
 * reports it to `onError` and calls the function instead, unless `strict: true`.
 * Adapters may pass a more specific `code`.
 */
export class StateError extends MimicError {
  constructor(message: string, options?: { cause?: unknown; code?: MimicErrorCode }) {
    super(options?.code ?? "MIMIC_STATE_ERROR", message, options);
  }
}

/** A backend operation did not finish within its timeout. Code `MIMIC_STATE_TIMEOUT`. */
export class StateTimeoutError extends StateError {
  /** The operation's budget, in milliseconds. */
  readonly timeoutMs: number;
  constructor(operation: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${operation} did not finish within ${timeoutMs} ms`, { ...options, code: "MIMIC_STATE_TIMEOUT" });
    this.timeoutMs = timeoutMs;
  }
}

/** An operation was called on a state after `close()`. Code `MIMIC_STATE_CLOSED`. */
export class StateClosedError extends StateError {
  constructor(stateName: string) {
    super(`${stateName} is closed`, { code: "MIMIC_STATE_CLOSED" });
  }
}

/**
 * A stored entry could not be decoded (truncated, foreign format, forged signature). It is treated
 * as a miss and reported. Code `MIMIC_CORRUPT_ENTRY`.
 */
export class CorruptEntryError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_CORRUPT_ENTRY" });
  }
}

/**
 * A memoized async call waited longer than its `timeout.hard` for the function. The execution goes
 * on, and its result is still stored. Code `MIMIC_TIMEOUT`.
 */
export class MimicTimeoutError extends MimicError {
  /** The bound that was passed, in seconds. */
  readonly timeout: number;
  constructor(functionName: string, timeout: number) {
    super("MIMIC_TIMEOUT", `"${functionName}" did not finish within its timeout of ${timeout} s; its result will still be cached when it comes`);
    this.timeout = timeout;
  }
}

/**
 * A batch loader (`Mime.batch`) returned something other than one result per item, in order (an
 * array of another length, or not an array). Nothing of that batch is stored. Code `MIMIC_BATCH_LENGTH`.
 */
export class BatchLengthError extends MimicError {
  constructor(functionName: string, expected: number, got: unknown) {
    const shown = Array.isArray(got) ? `${got.length} results` : `${got === null ? "null" : typeof got}, not an array`;
    super("MIMIC_BATCH_LENGTH", `the batch loader "${functionName}" was given ${expected} items and returned ${shown}; it must return one result per item, in order. Nothing was cached.`);
  }
}
