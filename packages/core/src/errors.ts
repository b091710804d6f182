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
  | (string & {});

interface Branded {
  readonly code: MimicErrorCode;
}

function stamp(error: Error & Branded, name: string): void {
  Object.defineProperty(error, brand, { value: true });
  Object.defineProperty(error, "name", { value: name, configurable: true, writable: true });
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
    stamp(this, new.target.name);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === MimicError) {
      return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** A `Mime` option or a `Config` field has a wrong type or an unknown name. Code `MIMIC_INVALID_OPTION`. */
export class InvalidOptionError extends TypeError implements Branded {
  readonly code: MimicErrorCode = "MIMIC_INVALID_OPTION";
  constructor(message: string) {
    super(message);
    stamp(this, "InvalidOptionError");
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
    stamp(this, "InvalidTtlError");
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
    stamp(this, "UnsupportedArgumentError");
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
    stamp(this, "StateContractError");
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
