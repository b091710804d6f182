import type { ErrorHandler } from "./config.js";
import { InvalidOptionError } from "./errors.js";
import { describeValue, rejectUnknownOptions } from "./option-kit.js";
import { assertIsState, type IState } from "./state/contract.js";
import { validateTtl } from "./ttl.js";

/**
 * Options of `Mime(options)`.
 * @typeParam Args the memoized function's parameters, for a typed `key`
 * @typeParam This the type of `this` in a method, for a typed `key`
 * @typeParam Result the memoized function's (settled) result, for a typed `ttl` function
 */
export interface MimeOptions<Args extends unknown[] = never[], This = never, Result = unknown> {
  /**
   * Seconds an entry lives (fractions allowed, e.g. `0.05`); `null` or omitted: it never expires.
   * A function computes it from each execution's result instead, called once per execution:
   * `0` means "do not store" (conditional caching: `(user) => (user ? 60 : 0)`; negative caching:
   * `(user) => (user ? 3600 : 30)`); `null` means never expires. A ttl function that throws or
   * returns anything else (a negative number, NaN, a string) never fails the call: the result is
   * returned, not stored, and `onError` receives an `InvalidTtlError` saying why.
   * @default null
   */
  ttl?: number | null | ((result: Result, args: Args) => number | null) | undefined;
  /**
   * The state for this function only, instead of the global one (`Mime.setConfig`). The caller
   * owns it and closes it.
   * @default the global config's state
   */
  state?: IState | undefined;
  /**
   * Computes the cache key from the call instead of the arguments: called with the same `this` and
   * arguments as the function. Its result is encoded like an argument (a string, number, array or
   * plain object…). Needed for arguments with no faithful key (class instances, functions) and for
   * methods on a shared state, where it says how `this` contributes.
   * @default the canonical encoding of all arguments
   */
  key?: ((this: This, ...args: Args) => unknown) | undefined;
  /**
   * Tags for a call's entry, computed from the same `this` and arguments (e.g.
   * `(id) => ["user:" + id]`); `Mime.invalidateTags(["user:42"])` then removes every entry carrying
   * the tag, across functions and processes. Needs a state that supports tags (all of Mimic's do).
   * @default no tags
   */
  tags?: ((this: This, ...args: Args) => readonly string[]) | undefined;
  /**
   * The function's identity in shared states, instead of its name plus a digest of its source
   * text. Give it when two different functions share a name, or to keep keys across code changes.
   * @default the function's `name` + a digest of its source text
   */
  name?: string | undefined;
  /**
   * Part of the function's identity: bump it to drop every entry of the previous version.
   * Giving `name` or `version` replaces the source-text digest.
   * @default none
   */
  version?: string | number | undefined;
  /**
   * Called with every backend error absorbed for this function (the call ran the function instead).
   * @default the global config's `onError`
   */
  onError?: ErrorHandler | undefined;
  /**
   * Propagate backend errors to the caller instead of calling the function.
   * @default the global config's `strict` (false)
   */
  strict?: boolean | undefined;
  /**
   * Seconds after expiry during which the old value is still returned at once while one call
   * refreshes it in the background (once per key per process; once across processes with `lock`).
   * Counted from expiry; after the window the entry is gone. Needs a `ttl`.
   * @default 0 (off)
   */
  staleWhileRevalidate?: number | undefined;
  /**
   * Seconds after expiry during which, if the function throws or rejects, the old value is
   * returned instead (the error goes to `onError`). Counted from expiry. Needs a `ttl`.
   * @default 0 (off)
   */
  staleIfError?: number | undefined;
  /**
   * Cross-process single-flight on a shared state: on a miss, one caller in any process takes a
   * lease on the key and runs the function; the others wait for its result (polling with backoff)
   * for at most `timeout` seconds, then run it themselves. A dead holder's lease expires after
   * `lease` seconds and one waiter takes over. If the state cannot lease keys or fails, the
   * function runs (fail-open). Async functions only; a process-local state needs no lock.
   * `true` means `{ lease: 10, timeout: 15 }`.
   * @default false
   */
  lock?: boolean | { lease?: number | undefined; timeout?: number | undefined } | undefined;
  /**
   * Treat the function as asynchronous from the first call. Native `async` functions are detected
   * by themselves; a function that returns a promise without being `async` (transpiled code) is
   * recognised by its first returned promise. Give `async: true` for such a function on a state
   * without sync operations, or to key it as async from its very first call (until then, its
   * handles answer synchronously and act on both its sync and its async entries).
   * @default detected
   */
  async?: boolean | undefined;
  /**
   * Refresh ahead (probabilistic early recomputation, "XFetch"): each entry stores how long its
   * execution took (Δ); a hit at `now` recomputes it in the background when
   * `now − Δ·β·ln(random()) ≥ expiry`, so a hot key is refreshed shortly before it expires (no caller
   * waits at expiry) while a cold key is left to expire. `true` means β = 1; a larger β refreshes
   * earlier. One refresh per key per process; with `lock`, one across processes. Needs a `ttl`.
   * @default false (off)
   */
  refreshAhead?: boolean | number | undefined;
  /**
   * Bounds how long an async call waits for the function, in seconds. Past `soft`, a call that has
   * a stale value in its `staleIfError` window returns it, and the execution finishes in the
   * background; past `hard`, the call rejects with a `MimicTimeoutError` (code `MIMIC_TIMEOUT`).
   * Either way the late result is still stored. A number `n` means `{ soft: n, hard: n }`. Needs an
   * async function (a sync one cannot be interrupted): a wrap-time `ConfigError` otherwise.
   * @default no timeout
   */
  timeout?: number | { soft?: number | undefined; hard?: number | undefined } | undefined;
}

/** A `ttl` computed from each execution's result. */
export type TtlFunction = (result: unknown, args: unknown[]) => number | null;

/** Options after validation. */
export interface Settings {
  ttl: number | null | TtlFunction;
  state: IState | undefined;
  key: ((...args: unknown[]) => unknown) | undefined;
  tags: ((...args: unknown[]) => readonly string[]) | undefined;
  name: string | undefined;
  version: string | undefined;
  onError: ErrorHandler | undefined;
  strict: boolean | undefined;
  async: boolean;
  staleWhileRevalidate: number;
  staleIfError: number;
  lock: { lease: number; timeout: number } | undefined;
  /** β of refresh ahead, or `undefined` when off. */
  refreshAhead: number | undefined;
  /** Seconds; `Infinity` when that bound is not set. `undefined` when there is no timeout. */
  timeout: { soft: number; hard: number } | undefined;
}

/** `lock: true` means these. */
const DEFAULT_LOCK = { lease: 10, timeout: 15 } as const;

const knownOptions = [
  "ttl",
  "state",
  "key",
  "tags",
  "name",
  "version",
  "onError",
  "strict",
  "async",
  "staleWhileRevalidate",
  "staleIfError",
  "lock",
  "refreshAhead",
  "timeout",
];

function expectType(where: string, name: string, value: unknown, type: "function" | "boolean" | "string"): void {
  if (value !== undefined && typeof value !== type) {
    throw new InvalidOptionError(`${where}: ${name} must be a ${type}, got ${typeof value} ${String(value)}`);
  }
}

function validateLock(lock: unknown, where: string): Settings["lock"] {
  if (lock === undefined || lock === false) return undefined;
  if (lock === true) return { ...DEFAULT_LOCK };
  if (typeof lock !== "object" || lock === null) {
    throw new InvalidOptionError(`${where}: lock must be true, false or { lease, timeout }, got ${String(lock)}`);
  }
  const { lease, timeout, ...rest } = lock as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new InvalidOptionError(`${where}: unknown lock option "${unknown}" (known: lease, timeout)`);
  const seconds = (name: string, value: unknown, fallback: number): number => {
    const checked = validateTtl(value, `${where}: lock.${name}`) ?? fallback;
    if (checked <= 0) throw new InvalidOptionError(`${where}: lock.${name} must be more than 0 seconds, got ${checked}`);
    return checked;
  };
  return { lease: seconds("lease", lease, DEFAULT_LOCK.lease), timeout: seconds("timeout", timeout, DEFAULT_LOCK.timeout) };
}

function validateRefreshAhead(refreshAhead: unknown, ttl: Settings["ttl"], where: string): number | undefined {
  if (refreshAhead === undefined || refreshAhead === false) return undefined;
  const beta = refreshAhead === true ? 1 : refreshAhead;
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
    throw new InvalidOptionError(`${where}: refreshAhead must be true, false or a number β > 0, got ${describeValue(refreshAhead)}`);
  }
  if (ttl === null) throw new InvalidOptionError(`${where}: refreshAhead refreshes before expiry, so it needs a ttl; got ttl null`);
  return beta;
}

function validateTimeout(timeout: unknown, where: string): Settings["timeout"] {
  if (timeout === undefined) return undefined;
  const bound = (name: string, value: unknown): number => {
    if (value === undefined) return Infinity;
    const seconds = validateTtl(value, `${where}: timeout${name}`);
    if (seconds === null || seconds <= 0) throw new InvalidOptionError(`${where}: timeout${name} must be more than 0 seconds, got ${describeValue(value)}`);
    return seconds;
  };
  if (typeof timeout === "number") {
    const seconds = bound("", timeout);
    return { soft: seconds, hard: seconds };
  }
  if (typeof timeout !== "object" || timeout === null) {
    throw new InvalidOptionError(`${where}: timeout must be a number of seconds or { soft, hard }, got ${describeValue(timeout)}`);
  }
  rejectUnknownOptions(`${where}: timeout`, timeout, ["soft", "hard"]);
  const { soft, hard } = timeout as { soft?: unknown; hard?: unknown };
  const result = { soft: bound(".soft", soft), hard: bound(".hard", hard) };
  if (result.soft === Infinity && result.hard === Infinity) throw new InvalidOptionError(`${where}: timeout needs soft, hard or both`);
  if (result.soft !== Infinity && result.soft > result.hard) {
    throw new InvalidOptionError(`${where}: timeout.soft (${result.soft}) must not be more than timeout.hard (${result.hard})`);
  }
  return result;
}

/**
 * Validates `Mime` options at decoration time.
 * @throws InvalidOptionError / InvalidTtlError naming the option and the value
 */
export function validateMimeOptions(options: unknown): Settings {
  const where = "Mime(options)";
  if (typeof options === "function") {
    throw new InvalidOptionError(
      `${where}: Mime must be called with its options before it decorates: write @Mime({ ttl: 60 }) or ` +
        `Mime({ ttl: 60 })(fn), not @Mime or Mime(fn) (got function ${options.name || "(anonymous)"})`,
    );
  }
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(`${where}: expected an options object like { ttl: 60 }, got ${String(options)}`);
  }
  const given = options as Record<string, unknown>;
  rejectUnknownOptions(where, given, knownOptions);
  const ttl = typeof given.ttl === "function" ? (given.ttl as TtlFunction) : validateTtl(given.ttl, where);
  if (given.state !== undefined) {
    if (typeof given.state === "function") {
      throw new InvalidOptionError(
        `${where}: state must be a state instance (e.g. new MemoryState()); to have a class instantiated ` +
          `lazily, use Mime.setConfig(new Config({ state: ${given.state.name || "StateClass"} }))`,
      );
    }
    assertIsState(given.state);
  }
  expectType(where, "key", given.key, "function");
  expectType(where, "tags", given.tags, "function");
  expectType(where, "onError", given.onError, "function");
  expectType(where, "strict", given.strict, "boolean");
  expectType(where, "async", given.async, "boolean");
  expectType(where, "name", given.name, "string");
  if (given.name === "") throw new InvalidOptionError(`${where}: name must not be empty`);
  const version = given.version;
  if (version !== undefined && typeof version !== "string" && typeof version !== "number") {
    throw new InvalidOptionError(`${where}: version must be a string or a number, got ${typeof version}`);
  }
  const window = (option: "staleWhileRevalidate" | "staleIfError"): number => {
    const seconds = validateTtl(given[option], `${where}: ${option}`) ?? 0;
    if (seconds > 0 && ttl === null) {
      throw new InvalidOptionError(`${where}: ${option} is counted from expiry, so it needs a ttl; got ttl ${String(given.ttl)}`);
    }
    return seconds;
  };
  return {
    ttl,
    refreshAhead: validateRefreshAhead(given.refreshAhead, ttl, where),
    timeout: validateTimeout(given.timeout, where),
    staleWhileRevalidate: window("staleWhileRevalidate"),
    staleIfError: window("staleIfError"),
    lock: validateLock(given.lock, where),
    state: given.state as IState | undefined,
    key: given.key as Settings["key"],
    tags: given.tags as Settings["tags"],
    name: given.name as string | undefined,
    version: version === undefined ? undefined : String(version),
    onError: given.onError as ErrorHandler | undefined,
    strict: given.strict as boolean | undefined,
    async: given.async === true,
  };
}
