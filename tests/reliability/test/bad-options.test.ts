import {
  Config,
  ConfigError,
  InvalidOptionError,
  InvalidTtlError,
  MemoryState,
  Mime,
  StateContractError,
  type IState,
} from "@mimic/core";
import { MAX_TIMEOUT_MS, RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";

// Item 5 of the reliability issue, bad options: each is a clear error at decoration (or
// construction) time, of a typed class with a stable code, whose message names the offending value.

/** Runs `make` and returns what it threw (failing the test if it threw nothing). */
function thrownBy(make: () => unknown): Error & { code?: string } {
  try {
    make();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected an error, but nothing was thrown");
}

describe("Mime options", () => {
  let called = 0;
  const target = (n: number): number => ++called + n;
  afterEach(() => expect(called).toBe(0));

  it.each([
    [-1, InvalidTtlError, RangeError, "MIMIC_INVALID_TTL", "-1"],
    [NaN, InvalidTtlError, RangeError, "MIMIC_INVALID_TTL", "NaN"],
    [Infinity, InvalidTtlError, RangeError, "MIMIC_INVALID_TTL", "Infinity"],
    [-Infinity, InvalidTtlError, RangeError, "MIMIC_INVALID_TTL", "-Infinity"],
    ["1", InvalidOptionError, TypeError, "MIMIC_INVALID_OPTION", '"1"'],
    [true, InvalidOptionError, TypeError, "MIMIC_INVALID_OPTION", "true"],
    [{}, InvalidOptionError, TypeError, "MIMIC_INVALID_OPTION", "object"],
  ])("ttl %p ⇒ %p at decoration time, naming the value", (ttl, Type, Base, code, named) => {
    // The error comes from Mime(options) itself, before any function is wrapped or called.
    const error = thrownBy(() => Mime({ ttl } as never));
    expect(error).toBeInstanceOf(Type);
    expect(error).toBeInstanceOf(Base);
    expect(error.code).toBe(code);
    expect(error.message).toContain(named);
    expect(error.message).toMatch(/ttl/);
  });

  it("accepted ttls: 0, fractions, null and omitted", () => {
    for (const ttl of [0, 0.05, 1, 3600, null]) expect(() => Mime({ ttl })(target)).not.toThrow();
    expect(() => Mime({})(target)).not.toThrow();
  });

  it.each([
    [{ ttll: 1 }, "ttll", 'did you mean "ttl"'],
    [{ TTL: 1 }, "TTL", 'did you mean "ttl"'],
    [{ on_error: () => undefined }, "on_error", 'did you mean "onError"'],
    [{ stateOptions: {} }, "stateOptions", "known options"],
    [{ maxEntries: 10 }, "maxEntries", "known options"],
  ])("unknown option %p ⇒ InvalidOptionError naming it", (options, name, hint) => {
    const error = thrownBy(() => Mime(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe("MIMIC_INVALID_OPTION");
    expect(error.message).toContain(`"${name}"`);
    expect(error.message).toContain(hint);
  });

  it.each([
    ["key", "not a function", /key must be a function, got string/],
    ["onError", 42, /onError must be a function, got number 42/],
    ["strict", "yes", /strict must be a boolean, got string yes/],
    ["name", 7, /name must be a string, got number 7/],
    ["name", "", /name must not be empty/],
    ["version", {}, /version must be a string or a number, got object/],
  ])("option %s = %p ⇒ InvalidOptionError naming the value", (option, given, message) => {
    const error = thrownBy(() => Mime({ [option]: given } as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(message);
  });

  it("options that are not an options object, and a target that is not a function", () => {
    expect(thrownBy(() => Mime(target as never)).message).toMatch(/must be called with its options before it decorates/);
    expect(thrownBy(() => Mime(5 as never)).message).toMatch(/expected an options object like \{ ttl: 60 \}, got 5/);
    for (const notAFunction of [42, "fn", null, { call: 1 }]) {
      const error = thrownBy(() => Mime({ ttl: 1 })(notAFunction as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/expects a function to wrap/);
    }
  });

  const complete = {
    get: async () => undefined,
    set: async () => undefined,
    delete: async () => undefined,
    clear: async () => undefined,
  };
  it.each(["get", "set", "delete", "clear"])("a state without %s ⇒ StateContractError (TypeError) naming it, at decoration time", (missing) => {
    const state = { ...complete, [missing]: undefined } as unknown as IState;
    const error = thrownBy(() => Mime({ state }));
    expect(error).toBeInstanceOf(StateContractError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("MIMIC_STATE_CONTRACT");
    expect(error.message).toContain("State class does not implement IState interface");
    expect(error.message).toContain(`"${missing}"`);
    // The same check on a class handed to Config, before anything is instantiated.
    let constructed = 0;
    class Partial {
      constructor() {
        constructed++;
      }
    }
    for (const name of Object.keys(complete)) {
      if (name !== missing) Object.defineProperty(Partial.prototype, name, { value: async () => undefined });
    }
    const viaConfig = thrownBy(() => new Config({ state: Partial as never }));
    expect(viaConfig).toBeInstanceOf(StateContractError);
    expect(viaConfig.message).toContain(`"${missing}"`);
    expect(viaConfig.message).toContain("class Partial");
    expect(constructed).toBe(0);
  });

  it("a state member that is not a method, a state class given to Mime, and not a state at all", () => {
    expect(thrownBy(() => Mime({ state: { ...complete, getSync: 1 } as unknown as IState })).message).toMatch(/"getSync" but it is number, not a method/);
    expect(thrownBy(() => Mime({ state: MemoryState as never })).message).toMatch(/state must be a state instance .*Config\(\{ state: MemoryState \}\)/);
    expect(thrownBy(() => Mime({ state: "redis://localhost" as never })).message).toMatch(/redis:\/\/localhost is not an object/);
  });

  it("a sync function on a state without sync operations ⇒ ConfigError at decoration time", () => {
    const error = thrownBy(() => Mime({ state: complete })(function add(a: number, b: number) {
      return a + b;
    }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/"add" is a synchronous function but its state \(Object\)|"add" is a synchronous function but its state/);
    expect(error.message).toMatch(/getSync\/setSync/);
    // The async form of the same function is fine.
    expect(() => Mime({ state: complete })(async (a: number, b: number) => a + b)).not.toThrow();
  });

  it("Config: unknown options, stateOptions with an instance", () => {
    expect(thrownBy(() => new Config({ stat: MemoryState } as never)).message).toMatch(/unknown option "stat"/);
    expect(thrownBy(() => new Config({ state: new MemoryState(), stateOptions: {} } as never)).message).toMatch(/stateOptions goes with a state class/);
  });
});

describe("state options", () => {
  const savedUrl = process.env.REDIS_URL;
  afterEach(() => {
    if (savedUrl === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = savedUrl;
  });

  it.each([
    [{ maxEntries: 0 }, /maxEntries must be a positive integer or Infinity, got 0/],
    [{ maxEntries: -5 }, /got -5/],
    [{ maxEntries: 1.5 }, /got 1.5/],
    [{ maxEntries: "100" }, /got 100/],
    [{ sweepInterval: -1 }, /sweepInterval must be a finite number of seconds >= 0, got -1/],
    [{ sweepInterval: Infinity }, /got Infinity/],
  ])("MemoryState(%p) ⇒ InvalidOptionError naming the value", (options, message) => {
    const error = thrownBy(() => new MemoryState(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(message);
  });

  const url = "redis://127.0.0.1:1";
  it.each([
    [{ url, timeout: 0 }, new RegExp(`timeout must be .* at most ${MAX_TIMEOUT_MS}, got 0`)],
    [{ url, timeout: MAX_TIMEOUT_MS + 1 }, new RegExp(`got ${MAX_TIMEOUT_MS + 1}`)],
    [{ url, timeout: NaN }, /got NaN|got null/],
    [{ url, timeout: "200" }, /got "200"/],
    [{ url, prefix: "" }, /prefix must be a non-empty string/],
    [{ url: "http://127.0.0.1:6379" }, /must use redis:\/\/ or rediss:\/\/, got "http:\/\/127.0.0.1:6379"/],
    [{ url: "not a url" }, /not a valid URL: "not a url"/],
    [{ urll: url }, /unknown option "urll"/],
    [{ client: {} }, /client must be a node-redis client or cluster/],
    [{ url, serializer: JSON }, /serializer must be \{ name, serialize, deserialize \}/],
    [{ url, secret: "short" }, /secret must have at least 16 bytes, got 5/],
    [{ url, secret: 42 }, /secret must be a string or a Uint8Array, got number/],
  ])("RedisState(%p) ⇒ InvalidOptionError naming the value", (options, message) => {
    // Nothing connects: a RedisState checks its options in the constructor and connects on first use.
    const error = thrownBy(() => new RedisState(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe("MIMIC_INVALID_OPTION");
    expect(error.message).toMatch(message);
  });

  it("RedisState with no url, no client and no (or an empty) REDIS_URL ⇒ an error naming all three ways", () => {
    for (const env of [undefined, ""]) {
      if (env === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = env;
      const error = thrownBy(() => new RedisState());
      expect(error.code).toBe("MIMIC_CONFIG");
      expect(error.message).toMatch(/url/);
      expect(error.message).toMatch(/REDIS_URL/);
      expect(error.message).toMatch(/client/);
    }
    const both = thrownBy(() => new RedisState({ url: "redis://127.0.0.1:1", client: {} as never }));
    expect(both.message).toMatch(/either url or client, not both/);
  });

  it.each([
    [{ basePaht: "/tmp" }, /unknown option "basePaht"/],
    [{ static: "yes" }, /option "static" must be a boolean, got "yes"/],
    [{ basePath: "" }, /option "basePath" must be a non-empty path/],
    [{ maxEntries: 0 }, /option "maxEntries" must be an integer >= 1, got 0/],
    [{ maxBytes: -1 }, /option "maxBytes" must be an integer >= 1, got -1/],
    [{ sweepEvery: 1.5 }, /option "sweepEvery" must be an integer >= 0, got 1.5/],
    [{ sweepInterval: -1 }, /option "sweepInterval" must be a finite number of seconds >= 0, or null, got -1/],
    [{ fsync: 1 }, /option "fsync" must be a boolean, got 1/],
    [{ secret: "short" }, /option "secret" must be at least 16 bytes .*got 5/],
    [{ secret: 42 }, /option "secret" must be a string or a Uint8Array\/Buffer, got 42/],
  ])("TempFileState(%p) ⇒ InvalidOptionError naming the value", (options, message) => {
    const error = thrownBy(() => new TempFileState(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe("MIMIC_INVALID_OPTION");
    expect(error.message).toMatch(message);
  });
});
