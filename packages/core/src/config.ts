import { InvalidOptionError, type MimicError } from "./errors.js";
import { rejectUnknownOptions } from "./option-kit.js";
import { MemoryState } from "./state/memory-state.js";
import { assertIsState, assertIsStateClass, type IState, type StateClass } from "./state/contract.js";

/** Which state operation failed, for error reports. */
export type StateOperation = "get" | "set" | "delete" | "clear" | "close" | "lock" | "unlock";

/** What an `onError` handler is told besides the error. */
export interface ErrorContext {
  /** The memoized function's name (its `name` option, else the function's own name). */
  functionName: string;
  /** The state operation that failed. */
  operation: StateOperation;
  /** The key involved, when there is one. */
  key?: string;
  /** The state that failed. */
  state: IState;
}

/**
 * Receives backend errors that Mimic absorbed (the call ran the function instead). It must not
 * throw; if it does, the exception is ignored.
 */
export type ErrorHandler = (error: MimicError, context: ErrorContext) => void;

/** What every `Config` takes, whichever way its state is given. */
export interface ConfigBase {
  /**
   * Called with every backend error Mimic absorbs. Per-function `onError` takes precedence.
   * @default a `process.emitWarning`, at most one per state every 30 seconds
   */
  onError?: ErrorHandler | undefined;
  /**
   * Propagate backend errors to the caller instead of calling the function.
   * @default false
   */
  strict?: boolean | undefined;
}

/** A state instance the user created (and will close). */
export interface InstanceConfig extends ConfigBase {
  /** The state to use; the user owns it and closes it. @default a `MemoryState` created on first use */
  state?: IState | undefined;
  /** Only with a state class: an instance is already built. */
  stateOptions?: undefined;
}

/** A state class that `Config` instantiates once, lazily, with `stateOptions`, and closes when replaced. */
export interface ClassConfig<Options> extends ConfigBase {
  /** The state class to instantiate on first use. */
  state: StateClass<Options>;
  /** Passed to the state class's constructor (`state_kwargs` in the Python my-mimic). */
  stateOptions?: Options | undefined;
}

/** What `new Config(...)` and `Mime.setConfig(...)` accept. */
export type ConfigOptions<Options = unknown> = InstanceConfig | ClassConfig<Options>;

const knownConfigKeys = ["state", "stateOptions", "onError", "strict"] as const;

/**
 * The global configuration (`Config(state=..., state_kwargs=...)` in the Python my-mimic). A state class is
 * instantiated lazily, once, on first use.
 */
export class Config<Options = unknown> {
  /** Called with every backend error Mimic absorbs, unless a function has its own `onError`. */
  readonly onError: ErrorHandler | undefined;
  /** Whether backend errors propagate instead of being absorbed. */
  readonly strict: boolean;
  private readonly stateClass: StateClass<Options> | undefined;
  private readonly stateOptions: Options | undefined;
  private state: IState | undefined;
  private readonly createsState: boolean;

  constructor(options: ConfigOptions<Options> = {}) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidOptionError(`Config: expected an options object, got ${String(options)}`);
    }
    rejectUnknownOptions("Config", options, knownConfigKeys);
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw new InvalidOptionError(`Config: onError must be a function, got ${typeof options.onError}`);
    }
    if (options.strict !== undefined && typeof options.strict !== "boolean") {
      throw new InvalidOptionError(`Config: strict must be a boolean, got ${typeof options.strict}`);
    }
    this.onError = options.onError;
    this.strict = options.strict ?? false;
    const { state } = options;
    if (typeof state === "function") {
      assertIsStateClass(state);
      this.stateClass = state;
      this.stateOptions = options.stateOptions;
      this.createsState = true;
    } else {
      if (state !== undefined) assertIsState(state);
      if (options.stateOptions !== undefined) {
        throw new InvalidOptionError("Config: stateOptions goes with a state class; the state instance given is already built");
      }
      this.stateClass = undefined;
      this.stateOptions = undefined;
      this.state = state;
      this.createsState = state === undefined;
    }
  }

  /** Whether the state has been created (or was given). */
  get hasState(): boolean {
    return this.state !== undefined;
  }

  /** The state, created on first call from the class and `stateOptions` (a `MemoryState` by default). */
  getState(): IState {
    if (this.state !== undefined) return this.state;
    const created = this.stateClass ? new this.stateClass(this.stateOptions as Options) : new MemoryState();
    assertIsState(created);
    this.state = created;
    return created;
  }

  /**
   * Whether the state has synchronous operations, told without creating it (from the class's
   * prototype until it exists), so a sync function on an async-only state fails at wrap time.
   */
  stateHasSyncOperations(): boolean {
    const shape = (this.state ?? this.stateClass?.prototype ?? MemoryState.prototype) as Partial<IState>;
    return typeof shape.getSync === "function" && typeof shape.setSync === "function";
  }

  /** Closes the state if this config created it; a state given as an instance is the user's to close. */
  async close(): Promise<void> {
    const state = this.state;
    if (!this.createsState || state === undefined) return;
    this.state = undefined;
    await state.close?.();
  }
}
