import {
  ConfigError,
  MemoryState,
  Mime,
  MimicError,
  StateContractError,
  type CacheEntry,
  type IState,
} from "../src/index";

/** A deferred value: a function in flight until the test releases it. */
function gate<T>(): { promise: Promise<T>; release(value: T): void } {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

describe("an invalidation wins over executions that began before it", () => {
  const call = (p: { getPrice: (item: string) => Promise<string> }, item: string): Promise<string> => {
    const { getPrice } = p;
    return getPrice(item);
  };
  function pricing() {
    let price = 1;
    let pending: ReturnType<typeof gate<void>> | undefined;
    let held: ReturnType<typeof gate<void>> | undefined;
    let runs = 0;
    const getPrice = Mime({ ttl: 60, state: new MemoryState(), tags: (item: string) => [`item:${item}`] })(async (item: string) => {
      runs++;
      const read = price; // reads the data, then awaits
      if (pending !== undefined) await pending.promise;
      return `${item}=${read}`;
    });
    // Called as a property of this object, getPrice would be keyed per instance (`this`): the tests
    // call it through a plain reference, as a module-level function is.
    return {
      getPrice,
      setPrice: (value: number) => (price = value),
      hold: () => (held = pending = gate<void>()),
      releaseHeld: () => held?.release(),
      unhold: () => (pending = undefined),
      runs: () => runs,
    };
  }

  test.each([
    ["fn.invalidate", (p: ReturnType<typeof pricing>) => p.getPrice.invalidate("x")],
    ["fn.clear", (p: ReturnType<typeof pricing>) => p.getPrice.clear()],
    ["Mime.invalidateTags", () => Mime.invalidateTags(["item:x"])],
  ])("%s: no later call joins or reads the old flight's result", async (_, invalidate) => {
    const p = pricing();
    p.hold();
    const old = call(p, "x"); // in flight with price 1
    await Promise.resolve();
    p.setPrice(2);
    p.unhold();
    await invalidate(p);
    const fresh = call(p, "x"); // must not join the old flight
    p.releaseHeld();
    await expect(old).resolves.toBe("x=1"); // it began before the invalidation
    await expect(fresh).resolves.toBe("x=2");
    // The old flight did not store its value over the new one, and a call after both reads the new one.
    await expect(call(p, "x")).resolves.toBe("x=2");
    expect(await p.getPrice.peek("x")).toEqual({ value: "x=2" });
    expect(p.runs()).toBe(2);
  });

  test("the old flight, settling after the invalidation, stores nothing", async () => {
    const p = pricing();
    p.hold();
    const old = call(p, "x");
    await Promise.resolve();
    await p.getPrice.invalidate("x");
    p.releaseHeld();
    await old;
    expect(await p.getPrice.peek("x")).toBeUndefined();
  });

  test("an invalidation of another key or tag leaves a flight alone", async () => {
    const p = pricing();
    p.hold();
    const first = call(p, "x");
    await Promise.resolve();
    await p.getPrice.invalidate("y");
    await Mime.invalidateTags(["item:y"]);
    const joined = call(p, "x");
    p.releaseHeld();
    await expect(first).resolves.toBe("x=1");
    await expect(joined).resolves.toBe("x=1");
    expect(p.runs()).toBe(1);
    expect(p.getPrice.stats().coalesced).toBe(1);
  });

  test("invalidating or clearing one function leaves another function's flight of the same arguments alone; a tag invalidation voids only tagged flights", async () => {
    const state = new MemoryState();
    const held = gate<void>();
    let runs = 0;
    const make = (name: string, tags?: (item: string) => string[]) =>
      Mime({ state, name, ...(tags === undefined ? {} : { tags }) })(async (item: string) => {
        const run = ++runs;
        await held.promise;
        return `${name}:${item}:${run}`;
      });
    const a = make("a");
    const b = make("b");
    const tagged = make("tagged", (item) => [`item:${item}`]);
    const first = [a("x"), b("x"), tagged("x")];
    await Promise.resolve();
    await b.invalidate("x");
    await b.clear();
    await Mime.invalidateTags(["item:x"]);
    const joined = [a("x"), b("x"), tagged("x")];
    expect(runs).toBe(5); // a's flight was joined; b's and tagged's were voided and ran again
    held.release();
    const [a1, b1, t1] = await Promise.all(first);
    const [a2, b2, t2] = await Promise.all(joined);
    expect(a2).toBe(a1);
    expect(b2).not.toBe(b1);
    expect(t2).not.toBe(t1);
    expect(a.stats().coalesced).toBe(1);
  });
});

describe("an invalidation made by the execution itself wins over it", () => {
  // Code the function runs (a hook, a listener) may change the data and invalidate the very key
  // being computed: the value read before must go to this call only, never into the cache.
  function pricing<R>(invalidate: (fn: { invalidate(item: string): unknown; clear(): unknown }) => unknown, wrap: (read: () => number) => R) {
    const db = { price: 1 };
    let hook: (() => void) | undefined;
    let runs = 0;
    const getPrice = Mime({ ttl: 60, state: new MemoryState(), tags: () => ["price"] })((item: string) => {
      runs++;
      const read = db.price;
      hook?.();
      hook = undefined;
      return wrap(() => read);
    });
    hook = () => {
      db.price = 2;
      void invalidate(getPrice as never);
    };
    return { getPrice, runs: () => runs };
  }
  const ways = [
    ["invalidate", (fn: { invalidate(item: string): unknown }) => fn.invalidate("x")],
    ["clear", (fn: { clear(): unknown }) => fn.clear()],
    ["invalidateTags", () => Mime.invalidateTags(["price"])],
  ] as const;

  it.each(ways)("a sync function: %s during the execution keeps its result out of the cache", async (_, invalidate) => {
    const { getPrice, runs } = pricing(invalidate, (read) => read());
    expect(getPrice("x")).toBe(1);
    await new Promise((resolve) => setImmediate(resolve)); // a tag invalidation finishes asynchronously
    expect(getPrice("x")).toBe(2);
    expect(runs()).toBe(2);
  });

  it.each(ways)("a sync function returning a promise: %s during its synchronous part voids its flight", async (_, invalidate) => {
    const { getPrice, runs } = pricing(invalidate, (read) => Promise.resolve(read()));
    const first = getPrice("x") as unknown as Promise<number>;
    const joined = getPrice("x") as unknown as Promise<number>; // would join a flight that is not voided
    await expect(first).resolves.toBe(1);
    await expect(joined).resolves.toBe(2);
    // (The invalidation's own delete may land after the second run's write: a later miss, never a
    // wrong value, so the number of runs is not asserted.)
    await expect(getPrice("x")).resolves.toBe(2);
    expect(runs()).toBeGreaterThanOrEqual(2);
  });

  it("an async function: an invalidation in its synchronous part leaves its flight unjoinable and unstored", async () => {
    const db = { price: 1 };
    let runs = 0;
    let invalidateFirst = true;
    const getPrice = Mime({ ttl: 60, state: new MemoryState() })(async (item: string) => {
      runs++;
      const read = db.price;
      if (invalidateFirst) {
        invalidateFirst = false;
        db.price = 2;
        void getPrice.invalidate(item);
      }
      await Promise.resolve();
      return read;
    });
    const first = getPrice("x");
    const second = getPrice("x");
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(2);
    await expect(getPrice("x")).resolves.toBe(2);
    expect(runs).toBeGreaterThanOrEqual(2);
  });
});

describe("a function that cannot read `this` is keyed as a plain call, whatever it is called on", () => {
  // `import * as api` then `api.get(1)`, or `require("./api").get(1)`: the call's `this` is the
  // module namespace or `module.exports`. The function's handles must reach such calls' entries.
  const db = new Map([[1, "alice"]]);
  const byArrow = Mime({ ttl: 60, state: new MemoryState() })((id: number) => db.get(id));
  const byFunction = Mime({ ttl: 60, state: new MemoryState() })(function get(id: number) {
    return db.get(id);
  });
  const api = { byArrow, byFunction };

  it.each(["byArrow", "byFunction"] as const)("%s: invalidate and clear on the function reach calls made through an object", (name) => {
    db.set(1, "alice");
    api[name].clear();
    expect(api[name](1)).toBe("alice");
    expect(api[name].peek(1)).toEqual({ value: "alice" });
    db.set(1, "bob");
    api[name].invalidate(1);
    expect(api[name](1)).toBe("bob");
    db.set(1, "carol");
    api[name].clear();
    expect(api[name](1)).toBe("carol");
    expect(api[name].call("a primitive this", 1)).toBe("carol");
    expect(api[name].stats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it("on a shared state too, without a `key` option (one that reads `this` still needs one)", async () => {
    class Shared extends MemoryState {
      override readonly local = false as unknown as true;
    }
    Object.defineProperty(Shared.prototype, "partition", { value: undefined });
    const state = new Shared();
    const lib = {
      rate: 2,
      price: Mime({ ttl: 60, state, name: "price" })(async (symbol: string) => `${symbol}:42`),
      scaled: Mime({ ttl: 60, state, name: "scaled" })(async function (this: { rate: number }, n: number) {
        return n * this.rate;
      }),
    };
    await expect(lib.price("AAPL")).resolves.toBe("AAPL:42");
    await expect(lib.price.peek("AAPL")).resolves.toEqual({ value: "AAPL:42" });
    await expect(lib.scaled(2)).rejects.toBeInstanceOf(ConfigError);
  });

  it("a function that reads `this` is still keyed per instance", () => {
    const describe = Mime({ ttl: 60, state: new MemoryState() })(function (this: { name: string }, id: number) {
      return `${this.name}:${id}`;
    });
    const a = { name: "a", describe };
    const b = { name: "b", describe };
    expect([a.describe(1), b.describe(1), a.describe(1)]).toEqual(["a:1", "b:1", "a:1"]);
  });
});

describe("generator functions are refused at wrap time", () => {
  test("sync generator", () => {
    function* range(n: number) {
      for (let i = 0; i < n; i++) yield i;
    }
    expect(() => Mime()(range)).toThrow(ConfigError);
    expect(() => Mime()(range)).toThrow(/"range" is a generator function/);
  });
  test("async generator", () => {
    async function* lines() {
      yield "a";
    }
    expect(() => Mime()(lines)).toThrow(/"lines" is an async generator function/);
  });
});

/** A shared (not local) state over a Map, for identity rules. */
class SharedMapState implements IState {
  readonly map = new Map<string, unknown>();
  async get(key: string): Promise<CacheEntry | undefined> {
    return this.map.has(key) ? { value: this.map.get(key) } : undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async clear(): Promise<void> {
    this.map.clear();
  }
}

describe("bound and native functions have no source digest", () => {
  class Repo {
    constructor(private readonly release: number) {}
    async load(id: number) {
      return `r${this.release}:${id}`;
    }
  }
  test("on a shared state they need a name (ConfigError saying so)", async () => {
    const state = new SharedMapState();
    const load = Mime({ state })(new Repo(1).load.bind(new Repo(1)));
    await expect(load(1)).rejects.toThrow(ConfigError);
    await expect(load(1)).rejects.toThrow(/pass a `name` option/);
    const named = Mime({ state, name: "repo.load", version: 2 })(new Repo(2).load.bind(new Repo(2)));
    await expect(named(1)).resolves.toBe("r2:1");
  });
  test("on a process-local state they work as before", async () => {
    const repo = new Repo(3);
    const load = Mime({ state: new MemoryState() })(repo.load.bind(repo));
    await expect(load(1)).resolves.toBe("r3:1");
    await expect(load(1)).resolves.toBe("r3:1");
    expect(load.stats().hits).toBe(1);
  });
});

describe("peek hands out a fresh { value }, never the state's record", () => {
  test("MemoryState: a copy with only `value`", () => {
    const state = new MemoryState();
    const double = Mime({ ttl: 60, state })((n: number) => ({ n: n * 2 }));
    double(1);
    const peeked = double.peek(1)!;
    expect(Object.keys(peeked)).toEqual(["value"]);
    expect(() => JSON.stringify(peeked)).not.toThrow();
    (peeked as { value: unknown }).value = "forged";
    expect(double(1)).toEqual({ n: 2 });
    expect(double.stats().hits).toBe(1);
  });
  test("stale windows: { value, stale: true } inside the window, nothing after, never the envelope", async () => {
    const state = new MemoryState();
    let calls = 0;
    const slow = Mime({ ttl: 0.05, staleIfError: 0.3, state })(async (n: number) => {
      calls++;
      return n + calls;
    });
    await slow(1);
    expect(await slow.peek(1)).toEqual({ value: 2 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await slow.peek(1)).toEqual({ value: 2, stale: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await slow.peek(1)).toBeUndefined();
  });
});

describe("a user's state that breaks the read contract is reported once and read as a miss", () => {
  class SeedLikeState implements IState {
    readonly local = true;
    readonly map = new Map<string, unknown>();
    constructor(private readonly answer: "null" | "raw") {}
    async get(key: string): Promise<CacheEntry | undefined> {
      const found = this.map.get(key);
      // Written as the Python seed's state would be: null for a miss, the raw value for a hit.
      return (found === undefined ? (this.answer === "null" ? null : undefined) : this.answer === "raw" ? found : { value: found }) as never;
    }
    async set(key: string, value: unknown): Promise<void> {
      this.map.set(key, value);
    }
    async delete(key: string): Promise<void> {
      this.map.delete(key);
    }
    async clear(): Promise<void> {
      this.map.clear();
    }
  }
  test.each(["null", "raw"] as const)("get returns %s", async (answer) => {
    const errors: unknown[] = [];
    let calls = 0;
    const fn = Mime({ state: new SeedLikeState(answer), onError: (error) => errors.push(error) })(async (n: number) => {
      calls++;
      return n * 10;
    });
    for (let i = 0; i < 3; i++) await expect(fn(4)).resolves.toBe(40);
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(StateContractError);
    expect(errors[0]).toBeInstanceOf(MimicError);
    expect((errors[0] as Error).message).toMatch(/must return undefined for a miss and \{ value \} for a hit/);
    expect(calls).toBe(answer === "null" ? 1 : 3);
  });
  test("the Python method names are named with their TypeScript ones", () => {
    const pythonic = {
      sync_get: () => undefined,
      sync_set: () => undefined,
      async_get: async () => undefined,
      async_set: async () => undefined,
    };
    expect(() => Mime({ state: pythonic as unknown as IState })).toThrow(/async_get → get/);
  });
});

describe("duplicate identities are per state", () => {
  test("same-named functions on two unrelated shared states do not warn", async () => {
    const emitted = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const codes = (): unknown[] => emitted.mock.calls.map((call) => (call[1] as { code?: string } | undefined)?.code);
    try {
      const make = (state: IState) => Mime({ state })(async function lookup(n: number) {
        return n;
      });
      await make(new SharedMapState())(1);
      await make(new SharedMapState())(1);
      expect(codes()).not.toContain("MIMIC_DUPLICATE_IDENTITY");
      const shared = new SharedMapState();
      await make(shared)(1);
      await make(shared)(1);
      expect(codes().filter((code) => code === "MIMIC_DUPLICATE_IDENTITY")).toHaveLength(1); // once, not once per call kind
    } finally {
      emitted.mockRestore();
    }
  });
});

describe("a primitive `this` is never dropped from the key", () => {
  test("a strict call on a string is keyed by it (docs/KEY_FORMAT.md: the `t` part)", () => {
    let calls = 0;
    const shout = Mime({ state: new MemoryState() })(function (this: string, suffix: string) {
      calls++;
      return this.toUpperCase() + suffix;
    });
    expect(shout.call("hello", "!")).toBe("HELLO!");
    expect(shout.call("bye", "!")).toBe("BYE!");
    expect(shout.call("hello", "!")).toBe("HELLO!");
    expect(calls).toBe(2);
  });
  test("with a key option, the key says how `this` contributes", () => {
    const shout = Mime({
      state: new MemoryState(),
      key(this: string, suffix: string) {
        return [this, suffix];
      },
    })(function (this: string, suffix: string) {
      return this.toUpperCase() + suffix;
    });
    expect(shout.call("hello", "!")).toBe("HELLO!");
    expect(shout.call("bye", "!")).toBe("BYE!");
  });
});

/** A shared state over a Map with sync operations and prefix deletion, as a static TempFileState is. */
class SharedSyncMapState extends SharedMapState {
  getSync(key: string): CacheEntry | undefined {
    return this.map.has(key) ? { value: this.map.get(key) } : undefined;
  }
  setSync(key: string, value: unknown): void {
    this.map.set(key, value);
  }
  deleteSync(key: string): void {
    this.map.delete(key);
  }
  async deletePrefix(prefix: string): Promise<void> {
    this.deletePrefixSync(prefix);
  }
  deletePrefixSync(prefix: string): void {
    for (const key of [...this.map.keys()]) if (key.startsWith(prefix)) this.map.delete(key);
  }
}

describe("a function that returns promises without being `async`, before its first call in this process", () => {
  // Two wrappers of one function on one shared state stand for two processes: one reads (its calls
  // have shown that the function returns promises), the other only invalidates, and has never called it.
  let release = 1;
  const loadUser = (id: number): Promise<string> => Promise.resolve(`user ${id} v${release}`);
  const quietly = async (body: () => Promise<void>): Promise<void> => {
    const emitted = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      await body();
    } finally {
      emitted.mockRestore();
    }
  };

  test("its invalidate removes the entry the other process stored", () =>
    quietly(async () => {
      const state = new SharedSyncMapState();
      const reader = Mime({ state, name: "users.load" })(loadUser);
      expect(await reader(1)).toBe(`user 1 v${release}`);
      const writer = Mime({ state, name: "users.load" })(loadUser);
      release++;
      await writer.invalidate(1);
      expect(await reader(1)).toBe(`user 1 v${release}`);
      expect(await writer(1)).toBe(`user 1 v${release}`);
    }));

  test("its first call hits the entry the other process stored, and it is async from then on", () =>
    quietly(async () => {
      const state = new SharedSyncMapState();
      let runs = 0;
      const counted = (id: number): Promise<string> => {
        runs++;
        return loadUser(id);
      };
      const first = Mime({ state, name: "users.counted" })(counted);
      const stored = await first(1);
      const second = Mime({ state, name: "users.counted" })(counted);
      const answer = second(1);
      expect(answer).toBeInstanceOf(Promise);
      expect(await answer).toBe(stored);
      expect(runs).toBe(1);
      expect(second.stats()).toMatchObject({ hits: 1, misses: 0 });
      expect(second.key(1)).toBe(first.key(1));
      release++;
      await second.invalidate(1);
      expect(await first(1)).toBe(`user 1 v${release}`);
      expect(runs).toBe(2);
    }));

  test("its clear removes the other process's entries, and its peek sees them", () =>
    quietly(async () => {
      const state = new SharedSyncMapState();
      const reader = Mime({ state, name: "users.all" })(loadUser);
      await reader(1);
      await reader(2);
      const peeker = Mime({ state, name: "users.all" })(loadUser);
      expect(await peeker.peek(2)).toEqual({ value: `user 2 v${release}` });
      const writer = Mime({ state, name: "users.all" })(loadUser);
      release++;
      await writer.clear();
      expect(state.map.size).toBe(0);
      expect(await reader(2)).toBe(`user 2 v${release}`);
    }));

  test("a sync function's handles still act on its own entries", () => {
    const state = new SharedSyncMapState();
    let runs = 0;
    const square = Mime({ state, name: "math.square" })((n: number) => {
      runs++;
      return n * n;
    });
    const other = Mime({ state, name: "math.square.other" })((n: number) => n * n);
    expect(other.peek(3)).toBeUndefined();
    expect(square(3)).toBe(9);
    expect(square.peek(3)).toEqual({ value: 9 });
    square.invalidate(3);
    expect(square.peek(3)).toBeUndefined();
    expect(square(3)).toBe(9);
    expect(runs).toBe(2);
  });
});
