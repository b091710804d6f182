import { Mime, type CacheEntry, type FencingState, type IState, type SetOptions } from "../src/index";

/** The clock `startedAt` is read from (ms since the epoch, from the monotonic clock). */
const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * A state that fences writes the way Redis and temp files do, in memory: a write whose execution
 * began at or before the latest deletion of its key is refused. It records the options of each write.
 */
class FencingMemory implements FencingState {
  /** @param local whether it is process-local (else it is shared: functions are keyed by name) */
  constructor(readonly local = true) {}
  readonly fencesWrites = true as const;
  readonly writes: Array<SetOptions | undefined> = [];
  readonly #entries = new Map<string, CacheEntry>();
  readonly #deletedAt = new Map<string, number>();

  getSync(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }
  setSync(key: string, value: unknown, _ttl: number | null, options?: SetOptions): void {
    this.writes.push(options);
    const startedAt = options?.startedAt;
    if (startedAt !== undefined && startedAt <= (this.#deletedAt.get(key) ?? -Infinity)) return;
    this.#entries.set(key, { value });
  }
  deleteSync(key: string): void {
    this.#deletedAt.set(key, preciseNow());
    this.#entries.delete(key);
  }
  clearSync(): void {
    this.#entries.clear();
  }
  async get(key: string): Promise<CacheEntry | undefined> {
    return this.getSync(key);
  }
  async set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    this.setSync(key, value, ttl, options);
  }
  async delete(key: string): Promise<void> {
    this.deleteSync(key);
  }
  async clear(): Promise<void> {
    this.clearSync();
  }
}

/** The same without the capability: it must never be handed a start. */
class PlainMemory extends FencingMemory {
  override readonly fencesWrites = undefined as unknown as true;
}

describe("the start a fencing state is given (it compares it with its invalidations)", () => {
  it.each([
    ["a sync function", false],
    ["an async function", true],
  ])("%s: read before the function runs, never NaN", async (_, isAsync) => {
    const state = new FencingMemory();
    let insideAt = 0;
    const body = (id: number): number => {
      insideAt = preciseNow();
      return id;
    };
    const fn = isAsync ? Mime({ state, name: "startAsync" })(async (id: number) => body(id)) : Mime({ state, name: "startSync" })(body);
    const before = preciseNow();
    await fn(1);
    const startedAt = state.writes[0]?.startedAt;
    expect(Number.isFinite(startedAt)).toBe(true);
    expect(startedAt).toBeGreaterThanOrEqual(before);
    expect(startedAt).toBeLessThanOrEqual(insideAt);
  });

  it("a sync function that turns out to return a promise: its start is from before the call", async () => {
    const state = new FencingMemory();
    let insideAt = 0;
    const fn = Mime({ state, name: "becomesAsync" })((id: number) => {
      insideAt = preciseNow();
      return Promise.resolve(id);
    });
    await fn(1);
    expect(state.writes[0]?.startedAt).toBeLessThanOrEqual(insideAt);
  });

  it("an invalidation through another wrapper of the same function while it runs wins: the old result is not stored", async () => {
    // A shared state: two wrappers of one function (two modules, or the ESM and CJS builds) share its
    // entries but not their flights, so only the state's fence can refuse the write that began first.
    const state = new FencingMemory(false);
    let version = 1;
    let gate: Promise<void> | undefined;
    const load = async (id: number): Promise<string> => {
      const seen = version;
      if (gate !== undefined) await gate;
      return `v${seen}:${id}`;
    };
    const first = Mime({ state, name: "shared.load" })(load);
    const second = Mime({ state, name: "shared.load" })(load);
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const running = first(1);
    await new Promise((resolve) => setImmediate(resolve));
    version = 2;
    await second.invalidate(1);
    gate = undefined;
    release();
    expect(await running).toBe("v1:1");
    expect(await first(1)).toBe("v2:1");
    expect(await second(1)).toBe("v2:1");
  });

  it("a state that does not fence writes is given no start", async () => {
    const state = new PlainMemory();
    await Mime({ state, name: "plainSync" })((id: number) => id)(1);
    await Mime({ state, name: "plainAsync" })(async (id: number) => id)(1);
    expect(state.writes).toEqual([undefined, undefined]);
  });
});
