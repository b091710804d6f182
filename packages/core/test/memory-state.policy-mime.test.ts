// Hits through Mime stay correct under both eviction policies while the state evicts all the time:
// every call returns its own arguments' result, and invalidations, tags and ttl are honoured.
import { MemoryState, Mime, type MemoryStatePolicy } from "../src/index";

afterEach(() => jest.useRealTimers());

/** A seeded sequence of `count` ints in [0, range): a skewed mix of repeats and new keys. */
function sequence(count: number, range: number, seed = 7): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    const r = x / 0x80000000;
    out.push(Math.floor(range * r * r)); // squared: low keys come back often
  }
  return out;
}

describe.each<MemoryStatePolicy>(["lru", "tinylfu"])("Mime on MemoryState with policy %p", (policy) => {
  const small = () => new MemoryState({ maxEntries: 16, policy });

  it("returns each lone argument's own result under constant eviction, and hits", () => {
    const state = small();
    const fn = jest.fn((x: number | string) => `v${typeof x}:${x}`);
    const memo = Mime({ state })(fn);
    const calls = sequence(3_000, 60).map((n) => (n % 3 === 0 ? String(n) : n));
    for (const x of calls) expect(memo(x)).toBe(`v${typeof x}:${x}`);
    expect(fn.mock.calls.length).toBeLessThan(calls.length);
    expect(state.size).toBeLessThanOrEqual(16);
  });

  it("returns each pair's own result under constant eviction", () => {
    const state = small();
    const fn = jest.fn((a: number, b: string) => `${a}/${b}`);
    const memo = Mime({ state })(fn);
    const calls = sequence(3_000, 80);
    for (const n of calls) expect(memo(n % 10, `p${n >> 3}`)).toBe(`${n % 10}/p${n >> 3}`);
    expect(fn.mock.calls.length).toBeLessThan(calls.length);
    expect(state.size).toBeLessThanOrEqual(16);
  });

  it("returns each object argument's own result under constant eviction", () => {
    const state = small();
    const fn = jest.fn((query: { id: number; tags: string[] }) => `${query.id}:${query.tags.join(",")}`);
    const memo = Mime({ state })(fn);
    const calls = sequence(2_000, 50);
    for (const n of calls) expect(memo({ id: n, tags: [`t${n % 4}`] })).toBe(`${n}:t${n % 4}`);
    expect(fn.mock.calls.length).toBeLessThan(calls.length);
  });

  it("runs the function again after invalidate, and fn.clear empties only its own entries", () => {
    const state = small();
    let version = 0;
    const memo = Mime({ state })((x: number) => `${x}@${version}`);
    const other = Mime({ state })((x: number) => -x);
    expect(memo(1)).toBe("1@0");
    expect(other(1)).toBe(-1);
    version = 1;
    expect(memo(1)).toBe("1@0");
    memo.invalidate(1);
    expect(memo(1)).toBe("1@1");
    version = 2;
    memo.clear();
    expect(memo(1)).toBe("1@2");
    expect(other.peek(1)).toMatchObject({ value: -1 });
  });

  it("drops tagged entries on Mime.invalidateTags, and keeps the others", async () => {
    const state = small();
    let version = 0;
    const memo = Mime({ state, tags: (x: number) => [`even:${x % 2 === 0}`] })((x: number) => `${x}@${version}`);
    for (let x = 0; x < 6; x++) memo(x);
    version = 1;
    await Mime.invalidateTags(["even:true"]);
    expect([0, 1, 2, 3, 4, 5].map((x) => memo(x))).toEqual(["0@1", "1@0", "2@1", "3@0", "4@1", "5@0"]);
  });

  it("expires entries after their ttl", () => {
    jest.useFakeTimers({ now: 0 });
    const state = small();
    const fn = jest.fn((x: number) => x + 1);
    const memo = Mime({ state, ttl: 1 })(fn);
    expect(memo(1)).toBe(2);
    expect(memo(1)).toBe(2);
    expect(fn).toHaveBeenCalledTimes(1);
    jest.setSystemTime(1_500);
    expect(memo(1)).toBe(2);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("gives async callers their own results, sharing one execution per key in flight", async () => {
    const state = small();
    const fn = jest.fn(async (x: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      return x * 10;
    });
    const memo = Mime({ state })(fn);
    const keys = sequence(400, 40);
    const results = await Promise.all(keys.map((x) => memo(x)));
    expect(results).toEqual(keys.map((x) => x * 10));
    expect(fn.mock.calls.length).toBeLessThanOrEqual(new Set(keys).size);
    for (const x of sequence(400, 40, 11)) expect(await memo(x)).toBe(x * 10);
  });
});
