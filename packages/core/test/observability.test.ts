import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { ConfigError, MemoryState, Mime, MIMIC_CHANNELS, type IState, type MimicEvent } from "../src/index";

function listen(name: string): { events: MimicEvent[]; stop(): void } {
  const events: MimicEvent[] = [];
  const listener = (message: unknown) => events.push(message as MimicEvent);
  subscribe(name, listener);
  return { events, stop: () => unsubscribe(name, listener) };
}

describe("diagnostics_channel events", () => {
  it("publishes hit, miss and set with function name, key, state and duration", async () => {
    const hits = listen(MIMIC_CHANNELS.hit);
    const misses = listen(MIMIC_CHANNELS.miss);
    const sets = listen(MIMIC_CHANNELS.set);
    try {
      const double = Mime({ name: "double" })((x: number) => x * 2);
      double(1);
      double(1);
      const find = Mime({ name: "find" })(async (id: string) => id);
      await find("a");
      await find("a");
      expect(misses.events.map((e) => e.functionName)).toEqual(["double", "find"]);
      expect(hits.events.map((e) => e.functionName)).toEqual(["double", "find"]);
      expect(sets.events).toHaveLength(2);
      expect(hits.events[0]).toMatchObject({ state: "MemoryState", key: double.key(1) });
      expect(hits.events[0]!.duration).toBeGreaterThanOrEqual(0);
    } finally {
      hits.stop();
      misses.stop();
      sets.stop();
    }
  });

  it("times a miss only from a start someone listened to: a call under way when the first subscriber arrives publishes no miss", async () => {
    let misses: { events: MimicEvent[]; stop(): void } | undefined;
    const subscribesInside = Mime({ name: "subscribesInside" })((x: number) => {
      misses ??= listen(MIMIC_CHANNELS.miss);
      return x;
    });
    try {
      subscribesInside(1);
      expect(misses!.events).toEqual([]);
      subscribesInside(2);
      expect(misses!.events).toHaveLength(1);
      expect(misses!.events[0]).toMatchObject({ functionName: "subscribesInside", key: subscribesInside.key(2) });
      expect(Number.isFinite(misses!.events[0]!.duration)).toBe(true);
      const loads = Mime({ name: "loads" })(async (x: number) => x);
      await loads(3);
      expect(misses!.events.map((e) => e.functionName)).toEqual(["subscribesInside", "loads"]);
      expect(Number.isFinite(misses!.events[1]!.duration)).toBe(true);
    } finally {
      misses?.stop();
    }
  });

  it("publishes absorbed backend errors", () => {
    const errors = listen(MIMIC_CHANNELS.error);
    try {
      const broken: IState = {
        local: true,
        get: () => Promise.reject(new Error("down")),
        set: () => Promise.reject(new Error("down")),
        delete: () => Promise.resolve(),
        clear: () => Promise.resolve(),
        getSync: () => {
          throw new Error("down");
        },
        setSync: () => {
          throw new Error("down");
        },
      };
      const memo = Mime({ state: broken, onError: () => undefined })((x: number) => x);
      expect(memo(1)).toBe(1);
      expect(errors.events.map((e) => (e as unknown as { operation: string }).operation)).toEqual(["get", "set"]);
    } finally {
      errors.stop();
    }
  });

  it("counts stats that match the calls made", async () => {
    const slow = Mime()(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return x;
    });
    await Promise.all([slow(1), slow(1), slow(2)]);
    await slow(1);
    expect(slow.stats()).toEqual({ hits: 1, misses: 2, coalesced: 1, stale: 0, errors: 0, inFlight: 0, hitRatio: 0.25 });
  });
});

describe("tags", () => {
  it("invalidates every entry carrying a tag, across functions", async () => {
    const state = new MemoryState();
    const user = jest.fn((id: number) => ({ id }));
    const posts = jest.fn(async (id: number) => [`post of ${id}`]);
    const getUser = Mime({ state, tags: (id: number) => [`user:${id}`] })(user);
    const getPosts = Mime({ state, tags: (id: number) => [`user:${id}`, "posts"] })(posts);
    getUser(1);
    getUser(2);
    await getPosts(1);
    await Mime.invalidateTags(["user:1"]);
    getUser(1);
    getUser(2);
    await getPosts(1);
    expect(user).toHaveBeenCalledTimes(3);
    expect(posts).toHaveBeenCalledTimes(2);
    await Mime.invalidateTags(["posts"]);
    await getPosts(1);
    expect(posts).toHaveBeenCalledTimes(3);
  });

  it("reaches the global state and refuses a state without tags", async () => {
    const fn = jest.fn((id: number) => id);
    const memo = Mime({ tags: (id: number) => [`t${id}`] })(fn);
    memo(1);
    await Mime.invalidateTags(["t1"]);
    memo(1);
    expect(fn).toHaveBeenCalledTimes(2);
    const plain: IState = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, clear: async () => undefined };
    expect(() => Mime({ state: plain, tags: () => [] })(async () => 1)).toThrow(ConfigError);
  });

  it("skips states that were closed since they tagged entries", async () => {
    const closed = new MemoryState();
    const memo = Mime({ state: closed, tags: () => ["t"] })((x: number) => x);
    memo(1);
    const failing = Object.assign(closed, {
      invalidateTags: () => Promise.reject(Object.assign(new Error("closed"), { code: "MIMIC_STATE_CLOSED" })),
    });
    void failing;
    await expect(Mime.invalidateTags(["t"])).resolves.toBeUndefined();
  });

  it("rejects tags that are not an array of strings, naming the value", () => {
    const memo = Mime({ tags: () => "user:1" as unknown as string[] })((x: number) => x);
    expect(() => memo(1)).toThrow(/tags.*must return an array of strings, got "user:1"/);
  });
});

describe("handles on decorated methods act on the instance they are read from", () => {
  it("invalidate, peek and clear per instance", () => {
    let calls = 0;
    class Repo {
      constructor(readonly tenant: string) {}
      @Mime()
      find(id: number): string {
        calls++;
        return `${this.tenant}:${id}`;
      }
    }
    const a = new Repo("a");
    const b = new Repo("b");
    a.find(1);
    b.find(1);
    const find = Mime.handles(a.find);
    expect(find.peek(1)).toMatchObject({ value: "a:1" });
    find.invalidate(1);
    expect(find.peek(1)).toBeUndefined();
    expect(Mime.handles(b.find).peek(1)).toMatchObject({ value: "b:1" });
    a.find(1);
    expect(calls).toBe(3);
    a.find(2);
    Mime.handles(a.find).clear();
    expect(Mime.handles(a.find).peek(2)).toBeUndefined();
    expect(Mime.handles(b.find).peek(1)).toBeDefined();
    expect(() => Mime.handles((() => 1) as () => number)).toThrow(/expected a function memoized by Mime/);
    expect(a.find).toBe(a.find);
    expect(a.find).not.toBe(b.find);
  });
});
