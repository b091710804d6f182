import type { IState } from "@mimic/core";

/** What a state under test can do beyond the plain `IState` contract; it decides which tests run. */
export interface StateCapabilities {
  /**
   * The state has `getSync` and `setSync` (and, optionally, `deleteSync`/`clearSync`), so that a
   * synchronous memoized function can use it. `true` runs every entry, value, ttl and key test a
   * second time through the synchronous operations, plus tests that mix the two halves.
   */
  sync: boolean;
  /**
   * Values come back as a structured clone would give them (what `node:v8` serialization, or
   * keeping the reference, preserves): `-0`, `Date`, `RegExp`, `Map`, `Set`, `BigInt`, typed arrays,
   * `Buffer` content (a `Uint8Array` may come back in its place), `undefined` properties, sparse
   * arrays and circular references. `false` limits value tests to JSON-safe values (plus the
   * top-level `undefined` and `NaN`, which every state must keep).
   */
  structuredClone: boolean;
  /**
   * The state has `deletePrefix` (and maybe `deletePrefixSync`), which core's `fn.clear()` uses.
   * `true` claims it: every prefix-deletion test is registered on its own and fails if the state
   * lacks it. `false` says the state has none, and a test fails if it does (core would use it
   * untested). Left out, the suite detects it with core's `supportsPrefixDeletion` on a state from
   * `createState` and runs all the prefix-deletion scenarios in one test per half when it is there.
   * @default undefined (detected)
   */
  deletePrefix?: boolean;
  /**
   * The state takes `{ tags }` as the 4th argument of `set` (and `setSync`) and has
   * `invalidateTags`, which core's `tags` option and `Mime.invalidateTags` use. Claimed, left out or
   * denied as for {@link StateCapabilities.deletePrefix}; detected with core's `supportsTags`.
   * @default undefined (detected)
   */
  tags?: boolean;
  /**
   * The state is process-local (`local: true`) and hands out partitions (`partition(namespace)`),
   * which core's wrappers use for hits by argument. Claimed, left out or denied as for
   * {@link StateCapabilities.deletePrefix}; detected with core's `isPartitioned`.
   * @default undefined (detected)
   */
  partitions?: boolean;
  /**
   * The state leases keys (`lock(key, lease)` resolving with a token or `undefined` when the key is
   * held, `unlock(key, token)`), which core's `lock` option uses for single-flight across processes.
   * Claimed, left out or denied as for {@link StateCapabilities.deletePrefix}; detected with core's
   * `supportsLocking`.
   * @default undefined (detected)
   */
  lock?: boolean;
  /**
   * The state reads many keys in one call (`getMany(keys)`), which core's batch loaders use.
   * Claimed, left out or denied as for {@link StateCapabilities.deletePrefix}; detected with core's
   * `supportsGetMany`.
   * @default undefined (detected)
   */
  getMany?: boolean;
  /**
   * The state writes many entries in one call (`setMany(entries)`, each with its own ttl and
   * options), which core's batch loaders use. Claimed, left out or denied as for
   * {@link StateCapabilities.deletePrefix}; detected with core's `supportsSetMany`.
   * @default undefined (detected)
   */
  setMany?: boolean;
  /**
   * The state declares `fencesWrites = true`: `set` (and `setMany`) must not store a value whose
   * `options.startedAt` is before an invalidation of its key (delete, a covering deletePrefix,
   * clear, invalidateTags of one of its tags). Claimed, left out or denied as for
   * {@link StateCapabilities.deletePrefix}; detected with core's `fencesWrites`.
   * @default undefined (detected)
   */
  fencesWrites?: boolean;
}

/** The optional capabilities, which the suite can also detect on a state. */
export type OptionalCapability = "deletePrefix" | "tags" | "partitions" | "lock" | "getMany" | "setMany" | "fencesWrites";

/** `true` claimed, `false` denied, `undefined` detected on a state at run time. */
export type Claim = boolean | undefined;

/** How {@link describeStateConformance} builds, closes and judges the state under test. */
export interface StateConformanceOptions {
  /** Names the top-level `describe` block, e.g. `"RedisState (single server)"`. */
  name: string;
  /**
   * Returns a fresh, empty state. Every call must give a state with its own namespace (key prefix,
   * directory…): the suite creates several per test and checks that they do not see each other.
   */
  createState: () => IState | Promise<IState>;
  /**
   * Releases a state the suite created (including failing ones), after each test. Use it to remove
   * the state's namespace too (a temp directory, a key prefix) if `close()` does not.
   * @default `state.close?.()`
   */
  closeState?: (state: IState) => void | Promise<void>;
  /** What the state can do; see {@link StateCapabilities}. */
  capabilities: StateCapabilities;
  /**
   * Returns a state whose backend is broken (a port nobody listens on, a directory that cannot be
   * written). With it, the suite checks that every operation rejects (async) or throws (sync) with
   * {@link StateConformanceOptions.failureError} and never resolves with a value.
   * @default none: the failing-backend tests are not registered
   */
  createFailingState?: () => IState | Promise<IState>;
  /**
   * The error class a failing state's operations reject or throw with (checked with `instanceof`).
   * @default StateError from `@mimic/core`
   */
  failureError?: abstract new (...args: never[]) => Error;
  /**
   * Multiplies every ttl and wait of the ttl tests, and the per-test timeout, for backends that are
   * slow to answer. The ttl tests wait in real time (a backend like Redis expires entries on its own
   * clock, out of reach of fake timers).
   * @default 1
   */
  timeScale?: number;
}

const optionalCapabilities: readonly OptionalCapability[] = ["deletePrefix", "tags", "partitions", "lock", "getMany", "setMany", "fencesWrites"];

/** The options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly name: string;
  readonly createState: () => IState | Promise<IState>;
  readonly closeState: ((state: IState) => void | Promise<void>) | undefined;
  readonly capabilities: { readonly sync: boolean; readonly structuredClone: boolean } & Readonly<Record<OptionalCapability, Claim>>;
  readonly createFailingState: (() => IState | Promise<IState>) | undefined;
  readonly failureError: abstract new (...args: never[]) => Error;
  readonly timeScale: number;
}

function describeValue(value: unknown): string {
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  return value === null || typeof value !== "object" ? String(value) : "an object";
}

function requireFunction(value: unknown, option: string, optional: boolean): void {
  if (optional && value === undefined) return;
  if (typeof value !== "function") {
    throw new TypeError(
      `describeStateConformance: ${option} must be a function${optional ? " or undefined" : ""}, got ${describeValue(value)}`,
    );
  }
}

/**
 * Checks the options at registration time, so that a typo fails the test file with a message
 * rather than as a confusing test failure.
 * @throws TypeError or RangeError naming the option and the value
 */
export function resolveOptions(options: StateConformanceOptions, defaultFailureError: ResolvedOptions["failureError"]): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`describeStateConformance: options must be an object, got ${describeValue(options)}`);
  }
  if (typeof options.name !== "string" || options.name === "") {
    throw new TypeError(`describeStateConformance: name must be a non-empty string, got ${describeValue(options.name)}`);
  }
  requireFunction(options.createState, "createState", false);
  requireFunction(options.closeState, "closeState", true);
  requireFunction(options.createFailingState, "createFailingState", true);
  requireFunction(options.failureError, "failureError", true);
  const capabilities: unknown = options.capabilities;
  if (typeof capabilities !== "object" || capabilities === null) {
    throw new TypeError(
      `describeStateConformance: capabilities must be an object { sync, structuredClone }, got ${describeValue(capabilities)}`,
    );
  }
  for (const flag of ["sync", "structuredClone"] as const) {
    const value = (capabilities as Record<string, unknown>)[flag];
    if (typeof value !== "boolean") {
      throw new TypeError(`describeStateConformance: capabilities.${flag} must be a boolean, got ${describeValue(value)}`);
    }
  }
  for (const flag of optionalCapabilities) {
    const value = (capabilities as Record<string, unknown>)[flag];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `describeStateConformance: capabilities.${flag} must be a boolean or undefined (detected), got ${describeValue(value)}`,
      );
    }
  }
  const timeScale = options.timeScale ?? 1;
  if (typeof timeScale !== "number" || !Number.isFinite(timeScale) || timeScale <= 0) {
    throw new RangeError(`describeStateConformance: timeScale must be a finite number > 0, got ${describeValue(timeScale)}`);
  }
  return {
    name: options.name,
    createState: options.createState,
    closeState: options.closeState,
    capabilities: {
      sync: options.capabilities.sync,
      structuredClone: options.capabilities.structuredClone,
      deletePrefix: options.capabilities.deletePrefix,
      tags: options.capabilities.tags,
      partitions: options.capabilities.partitions,
      lock: options.capabilities.lock,
      getMany: options.capabilities.getMany,
      setMany: options.capabilities.setMany,
      fencesWrites: options.capabilities.fencesWrites,
    },
    createFailingState: options.createFailingState,
    failureError: options.failureError ?? defaultFailureError,
    timeScale,
  };
}
