import fc from "fast-check";
import { InvalidOptionError, MemoryState, type MemoryStatePolicy } from "../src/index";

const POLICIES: readonly MemoryStatePolicy[] = ["lru", "tinylfu"];

afterEach(() => jest.useRealTimers());

describe("MemoryState policy option", () => {
  it.each(POLICIES)("accepts %p and says which it uses", (policy) => {
    expect(new MemoryState({ policy }).policyName).toBe(policy);
  });

  it("uses tinylfu by default", () => {
    expect(new MemoryState().policyName).toBe("tinylfu");
  });

  it.each([["lfu", '"lfu"'], ["LRU", '"LRU"'], [5, "5"], [null, "null"]])("rejects policy %p naming it and the choices", (policy, shown) => {
    const make = () => new MemoryState({ policy: policy as never });
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(`MemoryState: policy must be one of "lru", "tinylfu"; got ${shown}`);
  });
});

/** One step of a random workload: writes and reads through keys and partitions, deletes, clears. */
type Step =
  | { op: "set"; ns: number; key: number; value: number }
  | { op: "get"; ns: number; key: number }
  | { op: "setLone"; ns: number; key: number; value: number }
  | { op: "getLone"; ns: number; key: number }
  | { op: "setLoneText"; ns: number; key: number; value: number }
  | { op: "getLoneText"; ns: number; key: number }
  | { op: "setPair"; ns: number; key: number; second: number; value: number }
  | { op: "getPair"; ns: number; key: number; second: number }
  | { op: "delete"; ns: number; key: number }
  | { op: "clear" };

const ns = fc.integer({ min: 0, max: 2 });
const key = fc.integer({ min: 0, max: 24 });
const value = fc.integer();
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("set" as const), ns, key, value }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("get" as const), ns, key }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("setLone" as const), ns, key, value }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant("getLone" as const), ns, key }) },
  // A lone string argument whose index is the same string as a "set" step's argument part ("k3"):
  // two entries at one index, in two maps of one partition.
  { weight: 2, arbitrary: fc.record({ op: fc.constant("setLoneText" as const), ns, key, value }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("getLoneText" as const), ns, key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("setPair" as const), ns, key, second: fc.integer({ min: 0, max: 2 }), value }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("getPair" as const), ns, key, second: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), ns, key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
);

/** The full key of each step's entry, as `onEvict` reports it. */
function fullKey(s: Exclude<Step, { op: "clear" }>): string {
  const namespace = `m1:t:f${s.ns}|`;
  if (s.op === "set" || s.op === "get" || s.op === "delete") return `${namespace}k${s.key}`;
  if (s.op === "setLone" || s.op === "getLone") return `${namespace}A1:d${s.key};`;
  if (s.op === "setLoneText" || s.op === "getLoneText") return `${namespace}A1:s${`k${s.key}`.length}:k${s.key}`;
  return `${namespace}A2:d${s.key};d${s.second};`;
}

describe.each(POLICIES)("MemoryState with policy %p, under random workloads", (policy) => {
  it("never holds more than maxEntries, and answers every read exactly as a model that forgets only what was evicted", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(step, { minLength: 1, maxLength: 400 }), (maxEntries, steps) => {
        const model = new Map<string, number>();
        const state = new MemoryState({ maxEntries, policy, onEvict: (evicted) => model.delete(evicted) });
        const partitions = [0, 1, 2].map((n) => state.partition(`m1:t:f${n}|`));
        for (const s of steps) {
          if (s.op === "clear") {
            state.clearSync();
            model.clear();
          } else {
            const k = fullKey(s);
            const partition = partitions[s.ns]!;
            let read: { value: unknown } | undefined | null = null;
            switch (s.op) {
              case "set":
                state.setSync(k, s.value, null);
                break;
              case "setLone":
                partition.setLone(s.key, s.value, null);
                break;
              case "setLoneText":
                partition.setLone(`k${s.key}`, s.value, null);
                break;
              case "setPair":
                partition.setPair(s.key, s.second, s.value, null);
                break;
              case "delete":
                state.deleteSync(k);
                model.delete(k);
                break;
              case "get":
                read = state.getSync(k);
                break;
              case "getLone":
                read = partition.getLone(s.key);
                break;
              case "getLoneText":
                read = partition.getLone(`k${s.key}`);
                break;
              case "getPair":
                read = partition.getPair(s.key, s.second);
                break;
            }
            if (s.op === "set" || s.op === "setLone" || s.op === "setLoneText" || s.op === "setPair") {
              // Set after the write: an eviction during the write reports another key, never this one.
              model.set(k, s.value);
            }
            if (read !== null) expect(read?.value).toBe(model.get(k));
          }
          expect(state.size).toBeLessThanOrEqual(maxEntries);
          expect(state.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a write readable right after it, however full the state", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (maxEntries, keys) => {
        const state = new MemoryState({ maxEntries, policy });
        const partition = state.partition("ns|");
        for (const k of keys) {
          partition.getLone(k);
          partition.setLone(k, k * 2, null);
          expect(partition.getLone(k)?.value).toBe(k * 2);
        }
      }),
    );
  });
});

describe("MemoryState with policy tinylfu", () => {
  const hitsOf = (state: MemoryState, keys: readonly number[]): number => {
    const partition = state.partition("ns|");
    let hits = 0;
    for (const k of keys) {
      if (partition.getLone(k) !== undefined) hits++;
      else partition.setLone(k, k, null);
    }
    return hits;
  };

  it("keeps frequently used entries through a scan of one-hit keys, where lru loses them", () => {
    const hot = Array.from({ length: 50 }, (_, i) => i);
    const scan = Array.from({ length: 500 }, (_, i) => 1_000 + i);
    const run = (policy: MemoryStatePolicy): number => {
      const state = new MemoryState({ maxEntries: 100, policy });
      for (let round = 0; round < 5; round++) hitsOf(state, hot);
      hitsOf(state, scan);
      return hitsOf(state, hot);
    };
    expect(run("lru")).toBe(0);
    expect(run("tinylfu")).toBeGreaterThanOrEqual(45);
  });

  it("keeps part of a loop larger than the cache, where lru keeps nothing", () => {
    const loop = Array.from({ length: 30_000 }, (_, i) => i % 150);
    const run = (policy: MemoryStatePolicy): number => hitsOf(new MemoryState({ maxEntries: 100, policy }), loop);
    expect(run("lru")).toBe(0);
    expect(run("tinylfu")).toBeGreaterThan(30_000 * 0.5);
  });

  it("keeps a just-written entry for the next writes even on a long stream of one-off keys", () => {
    const state = new MemoryState({ maxEntries: 1_000, policy: "tinylfu" });
    const partition = state.partition("ns|");
    let recentHits = 0;
    for (let i = 0; i < 200_000; i++) {
      partition.setLone(i, i, null);
      // The key written 5 writes ago: within the admission window (1 % of the bound), never shrunk.
      if (i >= 5 && partition.getLone(i - 5)?.value === i - 5) recentHits++;
    }
    expect(recentHits).toBe(200_000 - 5);
  });

  it("sweeps expired entries, in every segment", () => {
    jest.useFakeTimers({ now: 0 });
    const evicted: string[] = [];
    const state = new MemoryState({ maxEntries: 50, policy: "tinylfu", sweepInterval: 10, onEvict: (k) => evicted.push(k) });
    const partition = state.partition("ns|");
    for (let round = 0; round < 3; round++) for (let k = 0; k < 80; k++) if (partition.getLone(k) === undefined) partition.setLone(k, k, 5);
    partition.setLone("forever", 1, null);
    expect(state.size).toBe(50);
    jest.advanceTimersByTime(10_000);
    expect(state.size).toBe(1);
    expect(partition.getLone("forever")?.value).toBe(1);
    expect(evicted.filter((k) => k.endsWith("A1:d0;")).length).toBeGreaterThan(0);
  });

  it("drops an expired entry when it is read, and prefers expired entries as victims", () => {
    jest.useFakeTimers({ now: 0 });
    const state = new MemoryState({ maxEntries: 3, policy: "tinylfu", sweepInterval: 0 });
    const partition = state.partition("ns|");
    partition.setLone(1, 1, 1);
    jest.advanceTimersByTime(2_000);
    expect(partition.getLone(1)).toBeUndefined();
    expect(state.size).toBe(0);
  });

  it("counts partitions' entries toward the bound and empties them with clear, deletePrefix and dispose", async () => {
    const state = new MemoryState({ maxEntries: 20, policy: "tinylfu" });
    const a = state.partition("a|");
    const b = state.partition("b|");
    for (let i = 0; i < 100; i++) {
      a.setLone(i, i, null);
      b.setPair(i, "x", i, null);
      state.setSync(`c|k${i}`, i, null);
      expect(state.size).toBeLessThanOrEqual(20);
    }
    await state.deletePrefix("b|");
    for (let i = 0; i < 100; i++) expect(b.getPair(i, "x")).toBeUndefined();
    a.dispose();
    for (let i = 0; i < 100; i++) expect(a.getLone(i)).toBeUndefined();
    await state.clear();
    expect(state.size).toBe(0);
    a.setLone(1, "again", null);
    expect(state.getSync("a|A1:d1;")?.value).toBe("again");
  });

  it("holds the bound with maxEntries 1 and 2", () => {
    for (const maxEntries of [1, 2]) {
      const state = new MemoryState({ maxEntries, policy: "tinylfu" });
      for (let i = 0; i < 200; i++) {
        state.setSync(`k|${i % 7}`, i, null);
        expect(state.getSync(`k|${i % 7}`)?.value).toBe(i);
        expect(state.size).toBeLessThanOrEqual(maxEntries);
      }
    }
  });

  it("is unbounded with maxEntries Infinity", () => {
    const state = new MemoryState({ maxEntries: Infinity, policy: "tinylfu" });
    for (let i = 0; i < 5_000; i++) state.setSync(`k|${i}`, i, null);
    expect(state.size).toBe(5_000);
  });
});
