import { InvalidOptionError, MemoryState, Mime } from "../src/index";

afterEach(() => jest.useRealTimers());

describe("MemoryState", () => {
  it("is process-local and keeps values by reference", () => {
    const state = new MemoryState();
    const value = { a: 1 };
    state.setSync("k", value, null);
    expect(state.local).toBe(true);
    expect(state.getSync("k")?.value).toBe(value);
  });

  it("evicts the least recently used entries past maxEntries", () => {
    const state = new MemoryState({ maxEntries: 3, policy: "lru" });
    state.setSync("a", 1, null);
    state.setSync("b", 2, null);
    state.setSync("c", 3, null);
    state.getSync("a");
    state.setSync("d", 4, null);
    expect(state.size).toBe(3);
    expect(state.getSync("a")?.value).toBe(1);
    expect(state.getSync("b")).toBeUndefined();
    expect(state.getSync("d")?.value).toBe(4);
  });

  it("stays within maxEntries under a long run of distinct keys, with hot keys kept", () => {
    const state = new MemoryState({ maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) {
      state.setSync(`k${i}`, i, null);
      state.getSync("k0");
      expect(state.size).toBeLessThanOrEqual(100);
    }
    expect(state.getSync("k0")?.value).toBe(0);
  });

  it("bounds a memoized function's memory by maxEntries", () => {
    const state = new MemoryState({ maxEntries: 50 });
    const memo = Mime({ state })((x: number) => x);
    for (let i = 0; i < 1000; i++) memo(i);
    expect(state.size).toBe(50);
  });

  it("drops expired entries on read and sweeps the rest on an unref'd timer", () => {
    jest.useFakeTimers({ now: 0 });
    const state = new MemoryState({ sweepInterval: 10 });
    state.setSync("short", 1, 1);
    state.setSync("forever", 2, null);
    jest.advanceTimersByTime(1000);
    expect(state.getSync("short")).toBeUndefined();
    state.setSync("unread", 3, 1);
    jest.advanceTimersByTime(10_000);
    expect(state.size).toBe(1);
    expect(state.getSync("forever")?.value).toBe(2);
  });

  it("treats ttl 0 as expired at once", () => {
    const state = new MemoryState();
    state.setSync("k", 1, 0);
    expect(state.getSync("k")).toBeUndefined();
  });

  it("overwrite refreshes value and ttl", () => {
    jest.useFakeTimers({ now: 0 });
    const state = new MemoryState();
    state.setSync("k", 1, 1);
    state.setSync("k", 2, null);
    jest.advanceTimersByTime(5000);
    expect(state.getSync("k")?.value).toBe(2);
  });

  it("deletes by prefix and clears only itself", async () => {
    const a = new MemoryState();
    const b = new MemoryState();
    a.setSync("p|1", 1, null);
    a.setSync("q|1", 1, null);
    b.setSync("p|1", 1, null);
    await a.deletePrefix("p|");
    expect(a.getSync("p|1")).toBeUndefined();
    expect(a.getSync("q|1")).toBeDefined();
    await a.clear();
    expect(a.size).toBe(0);
    expect(b.getSync("p|1")).toBeDefined();
    await a.close();
    await b.close();
  });

  it.each([0, -1, 1.5, NaN, "10"])("rejects maxEntries %p", (maxEntries) => {
    expect(() => new MemoryState({ maxEntries: maxEntries as number })).toThrow(InvalidOptionError);
    expect(() => new MemoryState({ maxEntries: maxEntries as number })).toThrow(/maxEntries must be a positive integer/);
  });
});

describe("MemoryState partitions", () => {
  it("serve the same entries as the string-keyed methods", () => {
    const state = new MemoryState();
    const partition = state.partition("m1:s:~1:f|");
    partition.setLone(1, "one", null);
    partition.setLone("1", "string one", null);
    partition.set("A2:d1;d2;", "pair", null);
    expect(state.getSync("m1:s:~1:f|A1:d1;")?.value).toBe("one");
    expect(state.getSync("m1:s:~1:f|A1:s1:1")?.value).toBe("string one");
    expect(state.getSync("m1:s:~1:f|A2:d1;d2;")?.value).toBe("pair");
    state.setSync("m1:s:~1:f|A1:T", "true", null);
    expect(partition.getLone(true)?.value).toBe("true");
    state.deleteSync("m1:s:~1:f|A1:d1;");
    expect(partition.getLone(1)).toBeUndefined();
    expect(state.size).toBe(3);
  });

  it("keep a lone string apart from an argument list spelled the same", () => {
    const state = new MemoryState();
    const partition = state.partition("ns|");
    partition.setLone("A2:d1;d2;", "lone string", null);
    partition.set("A2:d1;d2;", "two numbers", null);
    expect(partition.getLone("A2:d1;d2;")?.value).toBe("lone string");
    expect(partition.get("A2:d1;d2;")?.value).toBe("two numbers");
  });

  it("only decode canonical spellings as lone arguments", () => {
    const state = new MemoryState();
    state.setSync("ns|A1:d01;", "odd spelling", null);
    expect(state.partition("ns|").getLone(1)).toBeUndefined();
    expect(state.getSync("ns|A1:d01;")?.value).toBe("odd spelling");
  });

  it("are emptied by clear, deletePrefix and dispose, and count towards maxEntries", async () => {
    const state = new MemoryState({ maxEntries: 2 });
    const a = state.partition("a|");
    const b = state.partition("b|");
    a.setLone(1, 1, null);
    b.setLone(1, 1, null);
    b.setLone(2, 2, null);
    expect(state.size).toBe(2);
    await state.deletePrefix("b|");
    expect(b.getLone(2)).toBeUndefined();
    a.setLone(1, 1, null);
    a.dispose();
    expect(state.size).toBe(0);
    b.setLone(3, 3, null);
    await state.clear();
    expect(b.getLone(3)).toBeUndefined();
    b.setLone(3, 3, null);
    expect(state.getSync("b|A1:d3;")?.value).toBe(3);
  });
});

describe("MemoryState entries that share an index string", () => {
  // A lone string argument is indexed by the string itself; any other argument list by its encoded
  // argument part. "k1" can be both: f("k1") and an argument part spelled "k1" live in two maps of one
  // partition, and nothing done to one may reach the other.
  const loneKey = "ns|A1:s2:k1";
  const encodedKey = "ns|k1";

  it.each(["lru", "tinylfu"] as const)("keeps them apart through delete, tags, eviction and its report (%s)", async (policy) => {
    const evicted: string[] = [];
    const state = new MemoryState({ maxEntries: 3, policy, onEvict: (key) => evicted.push(key) });
    const partition = state.partition("ns|");
    partition.setLone("k1", "lone", null, { tags: ["t"] });
    state.setSync(encodedKey, "encoded", null);
    expect(state.getSync(loneKey)?.value).toBe("lone");
    expect(partition.getLone("k1")?.value).toBe("lone");
    expect(state.getSync(encodedKey)?.value).toBe("encoded");

    await state.invalidateTags(["t"]);
    expect(partition.getLone("k1")).toBeUndefined();
    expect(state.getSync(encodedKey)?.value).toBe("encoded");

    partition.setLone("k1", "lone again", null);
    state.deleteSync(encodedKey);
    expect(state.getSync(encodedKey)).toBeUndefined();
    expect(partition.getLone("k1")?.value).toBe("lone again");
    state.setSync(encodedKey, "encoded again", null, { tags: ["t"] });
    // Rewritten without tags: the tag no longer reaches it.
    state.setSync(encodedKey, "encoded, untagged", null);
    await state.invalidateTags(["t"]);
    expect(state.getSync(encodedKey)?.value).toBe("encoded, untagged");

    // Fill past the bound: each eviction reports the key of the entry that went, spelled by its own
    // map (lru lets both go; tinylfu may keep either for its reads, and then it reads as it was).
    for (let i = 0; i < 6; i++) state.setSync(`other|k${i}`, i, null);
    const expected = new Map([[loneKey, "lone again"], [encodedKey, "encoded, untagged"]]);
    for (const [key, value] of expected) {
      if (evicted.includes(key)) expect(state.getSync(key)).toBeUndefined();
      else expect(state.getSync(key)?.value).toBe(value);
    }
    if (policy === "lru") expect(evicted).toEqual(expect.arrayContaining([loneKey, encodedKey]));
    for (const key of evicted.filter((key) => key.startsWith("other|"))) expect(state.getSync(key)).toBeUndefined();
    expect(state.size).toBe(3);
  });

  it("reports an expired entry by its own key, and sweeps entries without a ttl never", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const evicted: string[] = [];
    const state = new MemoryState({ sweepInterval: 0, onEvict: (key) => evicted.push(key) });
    const partition = state.partition("ns|");
    partition.setLone("k1", "lone", 1);
    state.setSync(encodedKey, "encoded", null);
    jest.setSystemTime(1_002_000);
    state.sweep();
    expect(evicted).toEqual([loneKey]);
    expect(state.getSync(encodedKey)?.value).toBe("encoded");
    state.sweep(Number.MAX_SAFE_INTEGER);
    expect(state.getSync(encodedKey)?.value).toBe("encoded");
  });
});

describe("MemoryState expiry across overwrites", () => {
  it.each(["lru", "tinylfu"] as const)("follows each write's ttl: none after one, one after none (%s)", (policy) => {
    jest.useFakeTimers({ now: 1_000_000 });
    const state = new MemoryState({ policy, sweepInterval: 0 });
    const partition = state.partition("ns|");
    partition.setLone(1, "expiring", 1);
    partition.setLone(1, "kept", null);
    state.setSync("ns|k", "kept", null);
    state.setSync("ns|k", "expiring", 1);
    jest.setSystemTime(1_001_500);
    state.sweep();
    expect(partition.getLone(1)?.value).toBe("kept");
    expect(state.getSync("ns|A1:d1;")?.value).toBe("kept");
    expect(state.getSync("ns|k")).toBeUndefined();
    partition.setLone(1, "expiring again", 1);
    jest.setSystemTime(1_003_000);
    // Read through the string API, which checks the real clock (the partition's reads use the
    // coarse clock, whose tick never ends under fake timers).
    expect(state.getSync("ns|A1:d1;")).toBeUndefined();
    expect(state.size).toBe(0);
  });
});

describe("MemoryState sweeps", () => {
  it("an entry rewritten with a ttl after none, as one written with a ttl at first", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const evicted: string[] = [];
    const state = new MemoryState({ sweepInterval: 0.05, onEvict: (key) => evicted.push(key) });
    state.setSync("ns|k", "forever", null);
    state.setSync("ns|k", "short", 0.01);
    jest.advanceTimersByTime(100);
    expect(evicted).toEqual(["ns|k"]);
    expect(state.size).toBe(0);
  });
});

describe("MemoryState pairs", () => {
  it("index two primitive arguments by value, consistently with the string API", () => {
    const state = new MemoryState();
    const partition = state.partition("ns|");
    partition.setPair(1, 2, "1,2", null);
    partition.setPair("1", 2, "'1',2", null);
    expect(partition.getPair(2, 1)).toBeUndefined();
    expect(state.getSync("ns|A2:d1;d2;")?.value).toBe("1,2");
    expect(partition.get("A2:s1:1d2;")?.value).toBe("'1',2");
    state.deleteSync("ns|A2:d1;d2;");
    expect(partition.getPair(1, 2)).toBeUndefined();
    expect(state.size).toBe(1);
  });

  it("give a two-argument memoized function correct hits, -0 included", () => {
    const fn = jest.fn((a: number, b: number | string) => `${Object.is(a, -0) ? "-0" : a}/${b}`);
    const memo = Mime()(fn);
    expect([memo(1, 2), memo(2, 1), memo(1, "2"), memo(-0, 1), memo(0, 1)]).toEqual(["1/2", "2/1", "1/2", "-0/1", "0/1"]);
    expect([memo(1, 2), memo(2, 1), memo(1, "2"), memo(-0, 1), memo(0, 1)]).toEqual(["1/2", "2/1", "1/2", "-0/1", "0/1"]);
    expect(fn).toHaveBeenCalledTimes(5);
    expect(memo.peek(1, 2)).toMatchObject({ value: "1/2" });
    memo.invalidate(1, 2);
    expect(memo.peek(1, 2)).toBeUndefined();
  });
});
