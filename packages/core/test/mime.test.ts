import {
  Config,
  ConfigError,
  InvalidOptionError,
  InvalidTtlError,
  MemoryState,
  Mime,
  MimicError,
  StateContractError,
  StateError,
  UnsupportedArgumentError,
  type CacheEntry,
  type IState,
} from "../src/index";

/** A state whose backend is broken: every operation fails. */
class BrokenState implements IState {
  readonly local = true;
  private fail(): never {
    throw new Error("backend down");
  }
  get(): Promise<CacheEntry | undefined> {
    return Promise.reject(new Error("backend down"));
  }
  set(): Promise<void> {
    return Promise.reject(new Error("backend down"));
  }
  delete(): Promise<void> {
    return Promise.reject(new Error("backend down"));
  }
  clear(): Promise<void> {
    return Promise.reject(new Error("backend down"));
  }
  getSync(): CacheEntry | undefined {
    return this.fail();
  }
  setSync(): void {
    this.fail();
  }
}

/** A state with async operations only, counting calls. */
class AsyncOnlyState implements IState {
  readonly inner = new MemoryState();
  gets = 0;
  get(key: string) {
    this.gets++;
    return this.inner.get(key);
  }
  set(key: string, value: unknown, ttl: number | null) {
    return this.inner.set(key, value, ttl);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  clear() {
    return this.inner.clear();
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

afterEach(async () => {
  jest.useRealTimers();
  await Mime.setConfig(new Config());
});

describe("sync functions", () => {
  it("returns synchronously and calls the function once per key", () => {
    const calls: number[][] = [];
    const add = Mime({ ttl: 60 })((a: number, b: number) => {
      calls.push([a, b]);
      return a + b;
    });
    expect(add(1, 2)).toBe(3);
    expect(add(1, 2)).toBe(3);
    expect(add(2, 1)).toBe(3);
    expect(calls).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(add.stats()).toMatchObject({ hits: 1, misses: 2, coalesced: 0, errors: 0 });
  });

  it("keeps the name, length and this of the function", () => {
    const target = { factor: 3 };
    const scale = Mime()(function scale(this: { factor: number }, x: number) {
      return this.factor * x;
    });
    expect(scale.name).toBe("scale");
    expect(scale.length).toBe(1);
    expect(scale.call(target, 2)).toBe(6);
  });

  it.each([undefined, null, 0, false, "", NaN, -0])("caches %p as a hit", (value) => {
    const fn = jest.fn(() => value);
    const memo = Mime()(fn);
    expect(memo()).toBe(value);
    expect(memo()).toBe(value);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("never caches a thrown error", () => {
    let n = 0;
    const flaky = Mime()(() => {
      n++;
      if (n === 1) throw new Error("first call fails");
      return n;
    });
    expect(() => flaky()).toThrow("first call fails");
    expect(flaky()).toBe(2);
    expect(flaky()).toBe(2);
  });

  it("expires entries after ttl seconds, to the millisecond", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const fn = jest.fn((x: number) => x * 2);
    const memo = Mime({ ttl: 0.05 })(fn);
    memo(1);
    jest.advanceTimersByTime(49);
    memo(1);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    memo(1);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("never expires with ttl null or omitted", () => {
    jest.useFakeTimers({ now: 0 });
    const fn = jest.fn(() => 1);
    const memo = Mime({ ttl: null })(fn);
    memo();
    jest.advanceTimersByTime(10 * 365 * 24 * 3600 * 1000);
    memo();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("tells arguments apart and treats reordered object keys as equal", () => {
    const fn = jest.fn((..._args: unknown[]) => Math.random());
    const memo = Mime()(fn);
    const a = memo({ a: 1, b: 2 });
    expect(memo({ b: 2, a: 1 })).toBe(a);
    expect(memo(12)).not.toBe(memo(1, 2));
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("raises a TypeError naming an argument without a faithful key, and uses the key option instead", () => {
    class User {
      constructor(readonly id: number) {}
    }
    const name = Mime()((user: User) => `user ${user.id}`);
    expect(() => name(new User(1))).toThrow(UnsupportedArgumentError);
    expect(() => name(new User(1))).toThrow(/argument 0 is a User instance/);
    const fn = jest.fn((user: User) => `user ${user.id}`);
    const keyed = Mime({ key: (user: User) => user.id })(fn);
    expect(keyed(new User(1))).toBe("user 1");
    expect(keyed(new User(1))).toBe("user 1");
    expect(keyed(new User(2))).toBe("user 2");
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("keeps closures with the same source apart in a local state", () => {
    const makeGetter = (base: string) => Mime()((path: string) => base + path);
    const a = makeGetter("https://a/");
    const b = makeGetter("https://b/");
    expect(a("x")).toBe("https://a/x");
    expect(b("x")).toBe("https://b/x");
  });

  it("keeps two functions with the same name apart", () => {
    const one = Mime()(function f() {
      return 1;
    });
    const two = Mime()(function f() {
      return 2;
    });
    expect([one(), two(), one(), two()]).toEqual([1, 2, 1, 2]);
  });

  it("switches to async keying when a plain function returns a promise", async () => {
    const fn = jest.fn((x: number) => Promise.resolve(x + 1));
    const memo = Mime()(fn);
    await expect(memo(1)).resolves.toBe(2);
    const second = memo(1);
    expect(second).toBeInstanceOf(Promise);
    await expect(second).resolves.toBe(2);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe("async functions", () => {
  it("a function declared async that throws before returning a promise: that call rejects, nothing is cached, and the next call runs again", async () => {
    let runs = 0;
    const load = Mime({ async: true, ttl: 60 })((id: number): Promise<number> => {
      runs++;
      if (runs === 1) throw new RangeError(`no ${id} yet`);
      return Promise.resolve(id * 10);
    });
    const first = load(1);
    expect(first).toBeInstanceOf(Promise);
    await expect(first).rejects.toThrow(RangeError);
    expect(load.stats().inFlight).toBe(0);
    await expect(load(1)).resolves.toBe(10);
    await expect(load(1)).resolves.toBe(10);
    expect(runs).toBe(2);
  });

  it("returns promises on hits and misses", async () => {
    const fn = jest.fn(async (id: string) => ({ id }));
    const find = Mime({ ttl: 60 })(fn);
    const first = find("a");
    expect(first).toBeInstanceOf(Promise);
    const value = await first;
    const second = find("a");
    expect(second).toBeInstanceOf(Promise);
    expect(await second).toBe(value);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it.each([undefined, null, 0, false, "", NaN])("caches a resolved %p as a hit", async (value) => {
    const fn = jest.fn(async () => value);
    const memo = Mime()(fn);
    await expect(memo()).resolves.toBe(value);
    await expect(memo()).resolves.toBe(value);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("shares one execution among 100 concurrent misses, hits afterwards", async () => {
    let executions = 0;
    const slow = Mime({ ttl: 60 })(async (x: number) => {
      executions++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return x * 2;
    });
    const results = await Promise.all(Array.from({ length: 100 }, () => slow(21)));
    expect(results).toEqual(Array(100).fill(42));
    expect(executions).toBe(1);
    expect(slow.stats()).toMatchObject({ misses: 1, coalesced: 99, inFlight: 0 });
    await slow(21);
    expect(slow.stats().hits).toBe(1);
  });

  it("shares one execution on an async-only state too", async () => {
    const state = new AsyncOnlyState();
    let executions = 0;
    const slow = Mime({ state })(async (x: number) => {
      executions++;
      await tick();
      return x;
    });
    await Promise.all(Array.from({ length: 100 }, () => slow(1)));
    expect(executions).toBe(1);
  });

  it("gives every concurrent caller the rejection, caches nothing, and runs again next time", async () => {
    let executions = 0;
    const failing = Mime()(async () => {
      executions++;
      await tick();
      if (executions === 1) throw new Error("boom");
      return "ok";
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => failing()));
    expect(outcomes.every((o) => o.status === "rejected" && (o.reason as Error).message === "boom")).toBe(true);
    expect(executions).toBe(1);
    await expect(failing()).resolves.toBe("ok");
    expect(executions).toBe(2);
  });

  it("expires entries after ttl", async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ["setImmediate", "nextTick", "queueMicrotask"] });
    const fn = jest.fn(async () => Date.now());
    const memo = Mime({ ttl: 1 })(fn);
    await memo();
    jest.advanceTimersByTime(999);
    await memo();
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    await memo();
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("rejects (not throws) for an argument without a key", async () => {
    const memo = Mime()(async (f: () => void) => f);
    const result = memo(() => undefined);
    await expect(result).rejects.toBeInstanceOf(UnsupportedArgumentError);
  });
});

describe("options are checked at decoration time", () => {
  it.each([
    [{ ttl: -1 }, InvalidTtlError, /got -1/],
    [{ ttl: NaN }, InvalidTtlError, /got NaN/],
    [{ ttl: Infinity }, InvalidTtlError, /got Infinity/],
    [{ ttl: "1" }, InvalidOptionError, /got string "1"/],
    [{ tll: 1 }, InvalidOptionError, /unknown option "tll"/],
    [{ TTL: 1 }, InvalidOptionError, /did you mean "ttl"/],
    [{ key: "id" }, InvalidOptionError, /key must be a function/],
    [{ state: MemoryState }, InvalidOptionError, /state must be a state instance/],
    [{ state: { get() {} } }, StateContractError, /has no method "set"/],
    [{ name: "" }, InvalidOptionError, /name must not be empty/],
  ])("%p", (options, errorClass, message) => {
    expect(() => Mime(options as never)).toThrow(errorClass);
    expect(() => Mime(options as never)).toThrow(message);
  });

  it("negative ttl is a RangeError and a string ttl a TypeError, both MimicErrors with codes", () => {
    const range = catchError(() => Mime({ ttl: -1 }));
    expect(range).toBeInstanceOf(RangeError);
    expect(range).toBeInstanceOf(MimicError);
    expect((range as MimicError).code).toBe("MIMIC_INVALID_TTL");
    const type = catchError(() => Mime({ ttl: "1" as never }));
    expect(type).toBeInstanceOf(TypeError);
    expect((type as MimicError).code).toBe("MIMIC_INVALID_OPTION");
  });

  it("rejects a non-function target and a forgotten call", () => {
    expect(() => (Mime() as unknown as (x: unknown) => unknown)(42)).toThrow(/expects a function to wrap, got number 42/);
    expect(() => Mime((() => 1) as never)).toThrow(/Mime must be called with its options/);
  });

  it("refuses a sync function on a state without sync operations, at decoration time", () => {
    expect(() => Mime({ state: new AsyncOnlyState() })((x: number) => x)).toThrow(ConfigError);
    expect(() => Mime({ state: new AsyncOnlyState() })((x: number) => x)).toThrow(/synchronous function.*AsyncOnlyState/);
    expect(() => Mime({ state: new AsyncOnlyState() })(async (x: number) => x)).not.toThrow();
    expect(() => Mime({ state: new AsyncOnlyState(), async: true })((x: number) => Promise.resolve(x))).not.toThrow();
  });
});

describe("Config and Mime.setConfig", () => {
  it("instantiates a state class lazily, once, with stateOptions", async () => {
    const created: unknown[] = [];
    class CountingState extends MemoryState {
      constructor(options: { maxEntries: number }) {
        super(options);
        created.push(options);
      }
    }
    const config = new Config({ state: CountingState, stateOptions: { maxEntries: 5 } });
    await Mime.setConfig(config);
    expect(created).toHaveLength(0);
    const memo = Mime()((x: number) => x);
    memo(1);
    memo(2);
    expect(created).toEqual([{ maxEntries: 5 }]);
  });

  it("names the missing member of a state class", () => {
    class NotAState {
      get() {}
      set() {}
    }
    expect(() => new Config({ state: NotAState as never })).toThrow(StateContractError);
    expect(() => new Config({ state: NotAState as never })).toThrow(
      /State class does not implement IState interface: class NotAState has no method "delete"/,
    );
    expect(() => new Config({ unknown: 1 } as never)).toThrow(/unknown option "unknown"/);
  });

  it("closes the previous state if it created it, never one the user passed", async () => {
    const closed: string[] = [];
    class ClosingState extends MemoryState {
      override close() {
        closed.push("created");
        return super.close();
      }
    }
    await Mime.setConfig(new Config({ state: ClosingState }));
    Mime.getConfig().getState();
    const mine = new ClosingState();
    await Mime.setConfig({ state: mine });
    expect(closed).toEqual(["created"]);
    await Mime.setConfig(new Config());
    expect(closed).toEqual(["created"]);
  });

  it("moves functions to the new state on their next call", async () => {
    const fn = jest.fn((x: number) => x);
    const memo = Mime()(fn);
    memo(1);
    const state = new MemoryState();
    await Mime.setConfig({ state });
    memo(1);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(state.size).toBe(1);
  });
});

describe("a broken backend", () => {
  it("degrades to calling the function and reports to onError (sync and async)", async () => {
    const errors: MimicError[] = [];
    const state = new BrokenState();
    const onError = (error: MimicError) => errors.push(error);
    const add = Mime({ state, onError })((a: number, b: number) => a + b);
    expect(add(1, 2)).toBe(3);
    const find = Mime({ state, onError })(async (id: string) => id.toUpperCase());
    await expect(find("x")).resolves.toBe("X");
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors[0]).toBeInstanceOf(StateError);
    expect(errors[0]!.code).toBe("MIMIC_STATE_ERROR");
    expect(errors[0]!.message).toMatch(/BrokenState\.get failed for key .*backend down/);
    expect((errors[0]!.cause as Error).message).toBe("backend down");
    expect(add.stats().errors).toBe(2);
  });

  it("uses the global onError, and survives a handler that throws", async () => {
    const seen: string[] = [];
    await Mime.setConfig({ state: new BrokenState(), onError: (_e, context) => seen.push(context.operation) });
    const memo = Mime()((x: number) => x);
    expect(memo(1)).toBe(1);
    expect(seen).toEqual(["get", "set"]);
    const loud = Mime({ onError: () => {
      throw new Error("handler bug");
    } })((x: number) => x);
    expect(loud(2)).toBe(2);
  });

  it("propagates errors with strict: true", async () => {
    const memo = Mime({ state: new BrokenState(), strict: true })((x: number) => x);
    expect(() => memo(1)).toThrow(StateError);
    const find = Mime({ state: new BrokenState(), strict: true })(async (x: number) => x);
    await expect(find(1)).rejects.toBeInstanceOf(StateError);
  });

  it("warns by default, without failing the call", async () => {
    const warning = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const memo = Mime({ state: new BrokenState() })((x: number) => x);
    expect(memo(1)).toBe(1);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(String(warning.mock.calls[0]![0])).toMatch(/BrokenState\.get failed/);
    warning.mockRestore();
  });
});

describe("methods", () => {
  it("never gives one instance another instance's result in a local state", () => {
    class Counter {
      constructor(private readonly base: number) {}
      calls = 0;
      @Mime({ ttl: 60 })
      plus(x: number) {
        this.calls++;
        return this.base + x;
      }
    }
    const a = new Counter(100);
    const b = new Counter(200);
    expect(a.plus(1)).toBe(101);
    expect(b.plus(1)).toBe(201);
    expect(a.plus(1)).toBe(101);
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it("requires a key saying how `this` contributes in a shared state", async () => {
    class SharedState extends MemoryState {
      override readonly local = false as unknown as true;
    }
    const state = new SharedState();
    class Repo {
      constructor(readonly tenant: string) {}
      @Mime({ state })
      find(id: number) {
        return `${this.tenant}:${id}`;
      }
      @Mime({ state, key(this: Repo, id: number) {
        return [this.tenant, id];
      } })
      findKeyed(id: number) {
        return `${this.tenant}:${id}`;
      }
    }
    expect(() => new Repo("a").find(1)).toThrow(ConfigError);
    expect(() => new Repo("a").find(1)).toThrow(/called with `this` \(Repo\) on a shared state.*Pass a `key` option/);
    expect(new Repo("a").findKeyed(1)).toBe("a:1");
    expect(new Repo("b").findKeyed(1)).toBe("b:1");
  });

  it("rejects decorating a getter", () => {
    const decorate = Mime() as unknown as (value: unknown, context: { kind: string; name: string }) => unknown;
    expect(() => decorate(() => 1, { kind: "getter", name: "value" })).toThrow(
      /decorates methods and functions, not a getter \(value\)/,
    );
  });
});

describe("handles", () => {
  it("invalidate, peek, key, clear (sync)", () => {
    const fn = jest.fn((x: number) => (x === 0 ? undefined : x * 10));
    const memo = Mime()(fn);
    expect(memo.peek(1)).toBeUndefined();
    memo(1);
    memo(0);
    expect(memo.peek(1)).toMatchObject({ value: 10 });
    expect(memo.peek(0)).toMatchObject({ value: undefined });
    expect(memo.key(1)).toMatch(/^m2:s:~\d+:.*\|A1:d1;$/);
    memo.invalidate(1);
    expect(memo.peek(1)).toBeUndefined();
    memo.clear();
    expect(memo.peek(0)).toBeUndefined();
    memo(0);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it("invalidate, peek, clear (async) return promises, and clear spares other functions", async () => {
    const state = new MemoryState();
    const one = Mime({ state })(async (x: number) => x);
    const two = Mime({ state })(async (x: number) => x);
    await one(1);
    await two(1);
    await expect(one.peek(1)).resolves.toMatchObject({ value: 1 });
    await one.clear();
    await expect(one.peek(1)).resolves.toBeUndefined();
    await expect(two.peek(1)).resolves.toMatchObject({ value: 1 });
    await two.invalidate(1);
    await expect(two.peek(1)).resolves.toBeUndefined();
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe("option messages", () => {
  it("name a bigint ttl without failing to print it", () => {
    expect(() => Mime({ ttl: 1n as never })).toThrow(/ttl must be a number of seconds or null, got bigint 1n/);
  });
});
