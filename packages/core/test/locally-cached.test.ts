import { MemoryState, Mime, InvalidOptionError, type CacheEntry, type IState } from "../src/index";
import { isLocallyCached, type LocallyCachedState, type LocalReader } from "../src/state-kit";

/**
 * A shared state with a local copy, as the core sees one: a "remote" map (counted reads) and a
 * MemoryState standing for the local layer, filled only when the test says so.
 */
class LayeredState implements LocallyCachedState {
  readonly remote = new Map<string, unknown>();
  readonly copy = new MemoryState();
  remoteReads = 0;
  localReads = 0;

  async get(key: string): Promise<CacheEntry | undefined> {
    const held = this.getLocal(key);
    if (held !== undefined) return held;
    this.remoteReads++;
    return this.remote.has(key) ? { value: this.remote.get(key) } : undefined;
  }
  getSync(key: string): CacheEntry | undefined {
    const held = this.getLocal(key);
    if (held !== undefined) return held;
    this.remoteReads++;
    return this.remote.has(key) ? { value: this.remote.get(key) } : undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    this.setSync(key, value);
  }
  setSync(key: string, value: unknown): void {
    this.copy.deleteSync(key);
    this.remote.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.copy.deleteSync(key);
    this.remote.delete(key);
  }
  async clear(): Promise<void> {
    this.copy.clearSync();
    this.remote.clear();
  }
  getLocal(key: string): CacheEntry | undefined {
    this.localReads++;
    return this.copy.getSync(key);
  }
  localReader(namespace: string): LocalReader {
    const partition = this.copy.partition(namespace);
    return {
      namespace,
      getLone: (arg) => (this.localReads++, partition.getLone(arg)),
      getPair: (first, second) => (this.localReads++, partition.getPair(first, second)),
      get: (argumentsKey) => (this.localReads++, partition.get(argumentsKey)),
    };
  }
  /** What a coherent layer does after reading the backend: keep a copy. */
  holdAll(): void {
    for (const [key, value] of this.remote) this.copy.setSync(key, value, null);
  }
}

describe("a shared state with a local copy (LocallyCachedState)", () => {
  test("is detected only on shared states that have both members", () => {
    expect(isLocallyCached(new LayeredState())).toBe(true);
    expect(isLocallyCached(new MemoryState())).toBe(false);
    const plain = { get: async () => undefined, set: async () => {}, delete: async () => {}, clear: async () => {} };
    expect(isLocallyCached(plain)).toBe(false);
    expect(isLocallyCached({ ...plain, getLocal: () => undefined } as IState)).toBe(false);
  });

  test.each([
    ["one primitive argument", [7]],
    ["two primitive arguments", [7, "x"]],
    ["an object argument", [{ id: 7 }]],
  ])("async, %s: a miss in the copy reads the backend; a hit in the copy does not", async (_, args) => {
    const state = new LayeredState();
    let calls = 0;
    const fn = Mime({ ttl: 60, state, name: "layered" })(async (...given: unknown[]) => ({ given, calls: ++calls }));
    const first = await fn(...args);
    expect(calls).toBe(1);
    const readsAfterMiss = state.remoteReads;
    expect(await fn(...args)).toEqual(first); // the backend hit
    expect(state.remoteReads).toBe(readsAfterMiss + 1);
    state.holdAll();
    const held = await fn(...args);
    expect(held).toEqual(first);
    expect(state.remoteReads).toBe(readsAfterMiss + 1); // served by the copy
    expect(fn.stats()).toMatchObject({ hits: 2, misses: 1 });
  });

  test("sync: the copy answers first, and a miss there falls through to getSync", () => {
    const state = new LayeredState();
    let calls = 0;
    const double = Mime({ ttl: 60, state, name: "layered-sync" })((n: number) => (calls++, n * 2));
    expect(double(4)).toBe(8);
    expect(double(4)).toBe(8);
    const remoteReads = state.remoteReads;
    state.holdAll();
    expect(double(4)).toBe(8);
    expect(state.remoteReads).toBe(remoteReads);
    expect(calls).toBe(1);
  });

  test("a copy that throws is reported and read through (never a failed call)", async () => {
    const state = new LayeredState();
    state.getLocal = () => {
      throw new Error("broken copy");
    };
    const errors: unknown[] = [];
    const fn = Mime({ ttl: 60, state, name: "layered-broken", onError: (error) => errors.push(error) })(async (o: object) => o);
    expect(await fn({ a: 1 })).toEqual({ a: 1 });
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe("MemoryState onEvict", () => {
  test("is told the key of each entry evicted for capacity or found expired, not of deletes", () => {
    const evicted: string[] = [];
    const state = new MemoryState({ maxEntries: 2, policy: "lru", onEvict: (key) => evicted.push(key) });
    state.setSync("m1:a:f|A1:n:1", 1, null);
    state.setSync("m1:a:f|A1:n:2", 2, null);
    state.setSync("m1:a:f|A1:n:3", 3, null);
    expect(evicted).toEqual(["m1:a:f|A1:n:1"]);
    state.deleteSync("m1:a:f|A1:n:2");
    state.clearSync();
    expect(evicted).toEqual(["m1:a:f|A1:n:1"]);
    jest.useFakeTimers({ now: 0 });
    try {
      state.setSync("plain", 1, 1);
      jest.setSystemTime(2000);
      expect(state.getSync("plain")).toBeUndefined();
      expect(evicted).toEqual(["m1:a:f|A1:n:1", "plain"]);
    } finally {
      jest.useRealTimers();
    }
  });

  test("a throwing listener does not break the write; a non-function is rejected by name", () => {
    const state = new MemoryState({
      maxEntries: 1,
      onEvict: () => {
        throw new Error("listener");
      },
    });
    state.setSync("a", 1, null);
    expect(() => state.setSync("b", 2, null)).not.toThrow();
    expect(state.getSync("b")?.value).toBe(2);
    expect(() => new MemoryState({ onEvict: "no" as never })).toThrow(InvalidOptionError);
    expect(() => new MemoryState({ onEvict: "no" as never })).toThrow(/onEvict must be a function, got string/);
  });
});
