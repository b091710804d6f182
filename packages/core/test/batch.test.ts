import {
  BatchLengthError,
  CorruptEntryError,
  InvalidOptionError,
  MemoryState,
  Mime,
  MimicError,
  type BatchEntry,
  type CacheEntry,
  type IState,
} from "../src/index";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => void> = [];
const afterThis = (cleanup: () => void): void => void cleanups.push(cleanup);
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** A shared state over a Map that counts its calls, with getMany/setMany. */
class CountingSharedState implements IState {
  readonly map = new Map<string, unknown>();
  readonly calls = { get: 0, set: 0, getMany: 0, setMany: 0 };
  async get(key: string): Promise<CacheEntry | undefined> {
    this.calls.get++;
    return this.map.has(key) ? { value: this.map.get(key) } : undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.calls.set++;
    this.map.set(key, value);
  }
  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    this.calls.getMany++;
    return keys.map((key) => (this.map.has(key) ? { value: this.map.get(key) } : undefined));
  }
  async setMany(entries: readonly BatchEntry[]): Promise<void> {
    this.calls.setMany++;
    for (const entry of entries) this.map.set(entry.key, entry.value);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async clear(): Promise<void> {
    this.map.clear();
  }
}

function usersLoader() {
  const received: (readonly string[])[] = [];
  const load = async (ids: readonly string[]): Promise<string[]> => {
    received.push([...ids]);
    await sleep(5);
    return ids.map((id) => `user:${id}`);
  };
  return { load, received };
}

describe("Mime.batch: async bulk loaders", () => {
  test("results in order; only missing items, deduplicated and in order, reach the loader", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({ ttl: 60, state: new MemoryState() })(load);
    await expect(users(["a", "b"])).resolves.toEqual(["user:a", "user:b"]);
    await expect(users(["c", "a", "d", "c", "b"])).resolves.toEqual(["user:c", "user:a", "user:d", "user:c", "user:b"]);
    expect(received).toEqual([["a", "b"], ["c", "d"]]);
    expect(users.stats()).toMatchObject({ hits: 2, misses: 4, coalesced: 1 });
    await expect(users([])).resolves.toEqual([]);
  });

  test("concurrent batches share items in flight", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({ state: new MemoryState() })(load);
    const [first, second] = await Promise.all([users(["a", "b"]), users(["b", "c"])]);
    expect(first).toEqual(["user:a", "user:b"]);
    expect(second).toEqual(["user:b", "user:c"]);
    expect(received.flat().sort()).toEqual(["a", "b", "c"]);
  });

  test("one() calls of the same tick reach the loader together", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({ state: new MemoryState() })(load);
    const results = await Promise.all(["x", "y", "z", "x"].map((id) => users.one(id)));
    expect(results).toEqual(["user:x", "user:y", "user:z", "user:x"]);
    expect(received).toEqual([["x", "y", "z"]]);
  });

  test("-0 and 0 are two items (their keys differ), in a batch and in one() calls of one tick", async () => {
    const received: string[][] = [];
    const name = (id: number): string => (Object.is(id, -0) ? "-0" : String(id));
    const load = async (ids: readonly number[]): Promise<string[]> => {
      received.push(ids.map(name));
      return ids.map((id) => `item ${name(id)}`);
    };
    const items = Mime.batch({ ttl: 60, state: new MemoryState() })(load);
    await expect(items([0, -0, 0])).resolves.toEqual(["item 0", "item -0", "item 0"]);
    expect(received).toEqual([["0", "-0"]]);
    await expect(items.peek(-0)).resolves.toEqual({ value: "item -0" });
    await expect(items.peek(0)).resolves.toEqual({ value: "item 0" });
    const ones = Mime.batch({ ttl: 60, state: new MemoryState() })(load);
    await expect(Promise.all([ones.one(-0), ones.one(0), ones.one(-0)])).resolves.toEqual(["item -0", "item 0", "item -0"]);
    expect(received[1]).toEqual(["-0", "0"]);
  });

  test("a primitive `this` is part of each item's key: loads of two primitives never share items or results", async () => {
    const received: string[][] = [];
    const items = Mime.batch({ ttl: 60, state: new MemoryState() })(async function (this: unknown, ids: readonly number[]) {
      received.push(ids.map((id) => `${String(this)}:${id}`));
      return ids.map((id) => `${String(this)}:${id}`);
    });
    const [x, y, negativeZero, zero] = await Promise.all([items.call("x", [1]), items.call("y", [1]), items.call(-0, [1]), items.call(0, [1])]);
    expect([x, y, negativeZero, zero]).toEqual([["x:1"], ["y:1"], ["0:1"], ["0:1"]]);
    expect(received).toHaveLength(4);
    await expect(items.call("z", [2])).resolves.toEqual(["z:2"]);
    await expect(items([1])).resolves.toEqual(["undefined:1"]);
    await expect(items.call("x", [1])).resolves.toEqual(["x:1"]);
    expect(received).toHaveLength(6);
  });

  test("maxBatchSize splits long lists", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({ state: new MemoryState(), maxBatchSize: 2 })(load);
    await users(["1", "2", "3", "4", "5"]);
    expect(received).toEqual([["1", "2"], ["3", "4"], ["5"]]);
  });

  test("a result array of the wrong length is MIMIC_BATCH_LENGTH, for every waiter, and nothing is stored", async () => {
    let short = true;
    const users = Mime.batch({ state: new MemoryState() })(async (ids: readonly string[]) => (short ? ids.slice(1) : ids.map((id) => id.toUpperCase())));
    const both = Promise.allSettled([users(["a", "b"]), users.one("b")]);
    const [first, second] = await both;
    for (const settled of [first, second]) {
      expect(settled.status).toBe("rejected");
      const reason = (settled as PromiseRejectedResult).reason as MimicError;
      expect(reason).toBeInstanceOf(BatchLengthError);
      expect(reason.code).toBe("MIMIC_BATCH_LENGTH");
      expect(reason.message).toMatch(/was given 2 items and returned 1 results/);
    }
    expect(await users.peek("a")).toBeUndefined();
    short = false;
    await expect(users(["a", "b"])).resolves.toEqual(["A", "B"]);
  });

  test("a rejection reaches every waiter and caches nothing", async () => {
    let fail = true;
    let calls = 0;
    const users = Mime.batch({ state: new MemoryState() })(async (ids: readonly string[]) => {
      calls++;
      if (fail) throw new Error("db down");
      return ids;
    });
    const results = await Promise.allSettled([users(["a"]), users.one("b"), users(["a", "b"])]);
    expect(results.every((r) => r.status === "rejected" && (r.reason as Error).message === "db down")).toBe(true);
    expect(calls).toBe(1);
    fail = false;
    await expect(users(["a", "b"])).resolves.toEqual(["a", "b"]);
    expect(calls).toBe(2);
  });

  test("handles act per item: invalidate, peek, key", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({ ttl: 60, state: new MemoryState() })(load);
    await users(["a", "b"]);
    expect(await users.peek("a")).toEqual({ value: "user:a" });
    await users.invalidate("a");
    expect(await users.peek("a")).toBeUndefined();
    await users(["a", "b"]);
    expect(received).toEqual([["a", "b"], ["a"]]);
    expect(users.key("a")).toMatch(/a$/);
  });

  test("each item is keyed as a one-argument call would be (shared state: same name, same key)", async () => {
    // Two functions under one identity on purpose: the duplicate-identity warning is expected.
    const warned = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    afterThis(() => warned.mockRestore());
    const state = new CountingSharedState();
    const users = Mime.batch({ ttl: 60, state, name: "users" })(async (ids: readonly string[]) => ids.map((id) => `user:${id}`));
    const single = Mime({ ttl: 60, state, name: "users" })(async (id: string) => `single:${id}`);
    expect(users.key("a")).toBe(single.key("a"));
    await users(["a"]);
    await expect(single("a")).resolves.toBe("user:a"); // written by the batch, read by the one-argument function
  });

  test("ttl and tags per item", async () => {
    const { load, received } = usersLoader();
    const users = Mime.batch({
      state: new MemoryState(),
      ttl: (user: unknown) => (String(user).endsWith("temp") ? 0 : 60),
      tags: (id: string) => [`user:${id}`],
    })(load);
    await users(["a", "temp", "b"]);
    await users(["a", "temp", "b"]);
    expect(received).toEqual([["a", "temp", "b"], ["temp"]]);
    await Mime.invalidateTags(["user:b"]);
    await users(["a", "b"]);
    expect(received.at(-1)).toEqual(["b"]);
  });

  test("reads and writes of one batch go through getMany/setMany in one call each", async () => {
    const state = new CountingSharedState();
    const users = Mime.batch({ ttl: 60, state, name: "users-many" })(async (ids: readonly string[]) => ids.map((id) => `user:${id}`));
    await users(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(state.calls).toEqual({ get: 0, set: 0, getMany: 1, setMany: 1 });
    await users(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(state.calls).toEqual({ get: 0, set: 0, getMany: 2, setMany: 1 });
  });

  test("fail-open: a broken state means the loader runs and its results are returned", async () => {
    const broken: IState = {
      get: () => Promise.reject(new Error("down")),
      set: () => Promise.reject(new Error("down")),
      delete: () => Promise.reject(new Error("down")),
      clear: () => Promise.reject(new Error("down")),
    };
    const errors: unknown[] = [];
    const users = Mime.batch({ state: broken, name: "broken", onError: (error) => errors.push(error) })(async (ids: readonly string[]) => ids.map((id) => id + "!"));
    await expect(users(["a", "b"])).resolves.toEqual(["a!", "b!"]);
    expect(errors.length).toBeGreaterThan(0);
    const strict = Mime.batch({ state: broken, name: "broken-strict", strict: true })(async (ids: readonly string[]) => ids);
    await expect(strict(["a"])).rejects.toThrow(/down/);
  });

  test("the memoized function takes an array", async () => {
    const users = Mime.batch({ state: new MemoryState() })(async (ids: readonly string[]) => ids);
    await expect(users("a" as never)).rejects.toThrow(InvalidOptionError);
    expect(() => Mime.batch({ maxBatchSize: 0 })).toThrow(/maxBatchSize must be an integer >= 1/);
  });

  test("a decorated bulk-loading method batches per instance", async () => {
    const received: string[][] = [];
    class Repo {
      constructor(readonly prefix: string) {}
      @Mime.batch({ state: new MemoryState() })
      async load(ids: readonly string[]): Promise<string[]> {
        received.push([this.prefix, ...ids]);
        return ids.map((id) => `${this.prefix}${id}`);
      }
    }
    const a = new Repo("a:");
    const b = new Repo("b:");
    await expect(Promise.all([a.load(["1", "2"]), b.load(["1"])])).resolves.toEqual([["a:1", "a:2"], ["b:1"]]);
    await expect(a.load(["1"])).resolves.toEqual(["a:1"]);
    expect(received.sort()).toEqual([["a:", "1", "2"], ["b:", "1"]]);
  });
});

describe("Mime.batch: sync bulk loaders", () => {
  /** A sync shared state over a Map whose reads and writes fail as told, counting what reaches it. */
  class FailingSyncState implements IState {
    readonly map = new Map<string, unknown>();
    readonly calls = { getSync: 0, setSync: 0 };
    failReads: "no" | "down" | "corrupt" = "no";
    failWrites = false;
    async get(key: string): Promise<CacheEntry | undefined> {
      return this.getSync(key);
    }
    async set(key: string, value: unknown): Promise<void> {
      this.setSync(key, value);
    }
    async delete(key: string): Promise<void> {
      this.map.delete(key);
    }
    async clear(): Promise<void> {
      this.map.clear();
    }
    getSync(key: string): CacheEntry | undefined {
      this.calls.getSync++;
      if (this.failReads === "down") throw new Error("backend down");
      if (this.failReads === "corrupt") throw new CorruptEntryError(`garbage under ${key}`);
      return this.map.has(key) ? { value: this.map.get(key) } : undefined;
    }
    setSync(key: string, value: unknown): void {
      this.calls.setSync++;
      if (this.failWrites) throw new Error("backend down");
      this.map.set(key, value);
    }
  }

  it("stops using a backend that fails (down or hung): one failed read, then every item loaded and none written", () => {
    const state = new FailingSyncState();
    const errors: MimicError[] = [];
    const loads: number[][] = [];
    const squares = Mime.batch({ state, name: "squares", onError: (error) => void errors.push(error) })((ids: readonly number[]) => {
      loads.push([...ids]);
      return ids.map((id) => id * id);
    });
    expect(squares([1, 2])).toEqual([1, 4]);
    state.failReads = "down";
    state.calls.getSync = state.calls.setSync = 0;
    expect(squares([1, 2, 3, 4])).toEqual([1, 4, 9, 16]);
    expect(loads.at(-1)).toEqual([1, 2, 3, 4]);
    expect(state.calls).toEqual({ getSync: 1, setSync: 0 });
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining("backend down")]);
  });

  it("stops writing after a write fails, and keeps using a backend that answered with a corrupt entry", () => {
    const state = new FailingSyncState();
    const errors: MimicError[] = [];
    const squares = Mime.batch({ state, name: "squares", onError: (error) => void errors.push(error) })((ids: readonly number[]) => ids.map((id) => id * id));
    state.failWrites = true;
    expect(squares([1, 2, 3])).toEqual([1, 4, 9]);
    expect(state.calls).toEqual({ getSync: 3, setSync: 1 });
    state.failWrites = false;
    state.failReads = "corrupt";
    state.calls.getSync = state.calls.setSync = 0;
    errors.length = 0;
    // A corrupt entry is an answer: the batch reads on and overwrites the garbage.
    expect(squares([1, 2, 3])).toEqual([1, 4, 9]);
    expect(state.calls).toEqual({ getSync: 3, setSync: 3 });
    expect(errors).toHaveLength(3);
    state.failReads = "no";
    expect(squares([1, 2, 3])).toEqual([1, 4, 9]);
    expect(state.calls).toEqual({ getSync: 6, setSync: 3 });
  });

  test.each(["invalidate", "clear", "invalidateTags"] as const)(
    "a loader that invalidates (%s) while it runs returns its results and stores none of them",
    async (how) => {
      const db = new Map([[5, "v1"]]);
      let onLoad: (() => void) | undefined;
      const load = Mime.batch({ ttl: 60, state: new MemoryState(), tags: () => ["items"] })((ids: readonly number[]) => {
        const values = ids.map((id) => `${id}@${db.get(id)}`);
        onLoad?.();
        onLoad = undefined;
        return values;
      });
      onLoad = () => {
        db.set(5, "v2");
        if (how === "invalidate") void load.invalidate(5);
        else if (how === "clear") void load.clear();
        else void Mime.invalidateTags(["items"]);
      };
      expect(load([5])).toEqual(["5@v1"]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(load.peek(5)).toBeUndefined();
      expect(load([5])).toEqual(["5@v2"]);
    },
  );

  test("sync stays sync; only the missing items reach the loader, once each", () => {
    const received: number[][] = [];
    const squares = Mime.batch({ state: new MemoryState() })((ns: readonly number[]) => {
      received.push([...ns]);
      return ns.map((n) => n * n);
    });
    expect(squares([1, 2, 2, 3])).toEqual([1, 4, 4, 9]);
    expect(squares([3, 4, 1])).toEqual([9, 16, 1]);
    expect(received).toEqual([[1, 2, 3], [4]]);
    expect(squares.one(5)).toBe(25);
    expect(squares.peek(5)).toEqual({ value: 25 });
  });

  test("wrong length and async results are errors; nothing stored", () => {
    const bad = Mime.batch({ state: new MemoryState() })((ns: readonly number[]) => ns.slice(1));
    expect(() => bad([1, 2])).toThrow(BatchLengthError);
    expect(bad.peek(2)).toBeUndefined();
  });
});
