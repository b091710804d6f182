import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError, InvalidOptionError, MemoryState, Mime, type LockingState, type MimicError } from "../src/index";

/** A shared (not process-local) state with leases, standing in for Redis in core's unit tests. */
class SharedLockingState extends MemoryState implements LockingState {
  override readonly local = false as unknown as true;
  readonly leases = new Map<string, { token: string; until: number }>();
  private tokens = 0;
  override partition(): never {
    throw new Error("a shared state hands out no partitions");
  }
  async lock(key: string, lease: number): Promise<string | undefined> {
    const held = this.leases.get(key);
    if (held !== undefined && held.until > Date.now()) return undefined;
    const token = `t${++this.tokens}`;
    this.leases.set(key, { token, until: Date.now() + lease * 1000 });
    return token;
  }
  async unlock(key: string, token: string): Promise<void> {
    if (this.leases.get(key)?.token === token) this.leases.delete(key);
  }
}
// A shared state must not offer partitions (they are for process-local states).
Object.defineProperty(SharedLockingState.prototype, "partition", { value: undefined });

describe("staleWhileRevalidate", () => {
  it("returns the stale value at once and refreshes a sync function once, in the background", async () => {
    let version = 0;
    const fn = jest.fn(() => ++version);
    const memo = Mime({ ttl: 0.05, staleWhileRevalidate: 5 })(fn);
    expect(memo()).toBe(1);
    await sleep(80);
    expect(memo()).toBe(1);
    expect(memo()).toBe(1);
    expect(fn).toHaveBeenCalledTimes(1);
    await sleep(10);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(memo()).toBe(2);
    expect(memo.stats().stale).toBe(2);
  });

  it("refreshes an async function once per key however many callers see the stale value", async () => {
    let version = 0;
    const fn = jest.fn(async () => {
      await sleep(20);
      return ++version;
    });
    const memo = Mime({ ttl: 0.05, staleWhileRevalidate: 5 })(fn);
    await memo();
    await sleep(80);
    const values = await Promise.all(Array.from({ length: 10 }, () => memo()));
    expect(values).toEqual(Array(10).fill(1));
    await sleep(60);
    expect(fn).toHaveBeenCalledTimes(2);
    await expect(memo()).resolves.toBe(2);
  });

  it("refreshes an async function on a shared state (the read happens inside a flight)", async () => {
    const warning = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const state = new SharedLockingState();
    let version = 0;
    const memo = Mime({ state, name: "shared-swr", ttl: 0.05, staleWhileRevalidate: 5 })(async () => ++version);
    await memo();
    await sleep(80);
    await expect(memo()).resolves.toBe(1);
    await sleep(30);
    await expect(memo()).resolves.toBe(2);
    warning.mockRestore();
  });

  it("forgets the entry after the window", async () => {
    let version = 0;
    const memo = Mime({ ttl: 0.03, staleWhileRevalidate: 0.03 })(() => ++version);
    memo();
    await sleep(100);
    expect(memo()).toBe(2);
  });
});

describe("staleIfError", () => {
  it("returns the last value when the function throws within the window, and reports the error", async () => {
    const errors: MimicError[] = [];
    let fail = false;
    const memo = Mime({ ttl: 0.03, staleIfError: 0.3, onError: (error) => errors.push(error) })(() => {
      if (fail) throw new Error("backend of the function is down");
      return "good";
    });
    expect(memo()).toBe("good");
    fail = true;
    await sleep(60);
    expect(memo()).toBe("good");
    expect(errors[0]!.code).toBe("MIMIC_STALE_FALLBACK");
    expect(errors[0]!.message).toMatch(/backend of the function is down/);
    await sleep(350);
    expect(() => memo()).toThrow("backend of the function is down");
  });

  it("works for async functions", async () => {
    let fail = false;
    const memo = Mime({ ttl: 0.03, staleIfError: 1, onError: () => undefined })(async () => {
      if (fail) throw new Error("nope");
      return 7;
    });
    await memo();
    fail = true;
    await sleep(60);
    await expect(memo()).resolves.toBe(7);
    expect(memo.stats().stale).toBe(1);
  });

  it("needs a ttl", () => {
    expect(() => Mime({ staleIfError: 1 })).toThrow(InvalidOptionError);
    expect(() => Mime({ staleWhileRevalidate: 1 })).toThrow(/counted from expiry, so it needs a ttl/);
    expect(() => Mime({ ttl: 1, staleWhileRevalidate: -1 })).toThrow(RangeError);
  });
});

describe("lock", () => {
  // These tests build several wrappers with one identity on purpose: that is what processes do.
  let warning: jest.SpyInstance;
  beforeEach(() => (warning = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined)));
  afterEach(() => warning.mockRestore());

  it("runs the function once across wrappers sharing an identity (as processes do)", async () => {
    const state = new SharedLockingState();
    let executions = 0;
    const make = () =>
      Mime({ state, name: "report", ttl: 60, lock: { lease: 5, timeout: 5 } })(async (id: number) => {
        executions++;
        await sleep(50);
        return `report ${id}`;
      });
    const processes = [make(), make(), make(), make()];
    const results = await Promise.all(processes.flatMap((memo) => Array.from({ length: 25 }, () => memo(1))));
    expect(new Set(results)).toEqual(new Set(["report 1"]));
    expect(executions).toBe(1);
    expect(state.leases.size).toBe(0);
  });

  it("takes over when the holder's lease expires without a value", async () => {
    const state = new SharedLockingState();
    const key = Mime({ state, name: "job", lock: { lease: 0.1, timeout: 5 } })(async () => 1).key();
    await state.lock(key, 0.1); // a holder that died
    let executions = 0;
    const memo = Mime({ state, name: "job", lock: { lease: 0.1, timeout: 5 } })(async () => ++executions);
    await expect(memo()).resolves.toBe(1);
    expect(executions).toBe(1);
  });

  it("runs the function itself after the timeout", async () => {
    const state = new SharedLockingState();
    const key = Mime({ state, name: "slow", lock: { lease: 60, timeout: 0.1 } })(async () => 1).key();
    await state.lock(key, 60);
    const memo = Mime({ state, name: "slow", lock: { lease: 60, timeout: 0.1 } })(async () => "ran anyway");
    await expect(memo()).resolves.toBe("ran anyway");
  });

  it("is refused on a shared state without leases, and for sync functions", () => {
    class Shared extends MemoryState {
      override readonly local = false as unknown as true;
    }
    Object.defineProperty(Shared.prototype, "partition", { value: undefined });
    const memo = Mime({ state: new Shared(), lock: true })(async () => 1);
    return expect(memo()).rejects.toBeInstanceOf(ConfigError).then(() => {
      const sync = Mime({ state: new SharedLockingState(), lock: true, name: "s" })(() => 1);
      expect(() => sync()).toThrow(/needs an async function/);
      expect(() => Mime({ lock: { lease: 0 } })).toThrow(/lock.lease must be more than 0/);
      expect(() => Mime({ lock: { lase: 1 } as never })).toThrow(/unknown lock option "lase"/);
    });
  });
});

describe("writes to a shared state", () => {
  /** A shared state whose reads can fail and whose writes wait to be released. */
  class SlowWrites extends MemoryState {
    override readonly local = false as unknown as true;
    failReads = false;
    writes = 0;
    release: () => void = () => undefined;
    override get(key: string) {
      return this.failReads ? Promise.reject(new Error("read timed out")) : super.get(key);
    }
    override set(key: string, value: unknown, ttl: number | null): Promise<void> {
      this.writes++;
      return new Promise((resolve) => {
        this.release = () => {
          this.setSync(key, value, ttl);
          resolve();
        };
      });
    }
  }
  Object.defineProperty(SlowWrites.prototype, "partition", { value: undefined });

  it("complete before the call returns while the backend answers (a returned call is a stored entry)", async () => {
    const state = new SlowWrites();
    const memo = Mime({ state, name: "healthy-writes" })(async (x: number) => x * 2);
    let returned = false;
    const call = memo(2).then((value) => {
      returned = true;
      return value;
    });
    await sleep(5);
    expect(state.writes).toBe(1);
    expect(returned).toBe(false);
    state.release();
    await expect(call).resolves.toBe(4);
    await expect(memo.peek(2)).resolves.toMatchObject({ value: 4 });
  });

  it("do not hold the call when its read just failed (no call waits for two backend timeouts)", async () => {
    const state = new SlowWrites();
    state.failReads = true;
    let executions = 0;
    const memo = Mime({ state, name: "failing-reads", onError: () => undefined })(async (x: number) => {
      executions++;
      return x * 2;
    });
    await expect(memo(2)).resolves.toBe(4);
    expect(state.writes).toBe(1);
    // Callers meanwhile join the settled flight instead of running the function again.
    await expect(memo(2)).resolves.toBe(4);
    expect(executions).toBe(1);
    // An invalidation waits for the write, so it cannot be undone by it.
    const invalidated = memo.invalidate(2);
    state.release();
    await invalidated;
    state.failReads = false;
    await expect(memo.peek(2)).resolves.toBeUndefined();
  });

  /** SlowWrites with leases that can fail too, counting the attempts to take one. */
  class SlowWritesWithLeases extends SlowWrites implements LockingState {
    failLocks = false;
    locks = 0;
    async lock(): Promise<string | undefined> {
      this.locks++;
      if (this.failLocks) throw new Error("lock timed out");
      return `t${this.locks}`;
    }
    async unlock(): Promise<void> {}
  }

  it("with lock, a failed read takes no lease and holds the call for no write (one backend timeout, not three)", async () => {
    const state = new SlowWritesWithLeases();
    state.failReads = true;
    const memo = Mime({ state, name: "locked-failing-reads", lock: true, onError: () => undefined })(async (x: number) => x * 2);
    await expect(memo(2)).resolves.toBe(4); // resolves with the write still held
    expect(state.locks).toBe(0);
    expect(state.writes).toBe(1);
    state.release();
  });

  it("with lock, a lease that cannot be taken (the state failed) holds the call for no write either", async () => {
    const state = new SlowWritesWithLeases();
    state.failLocks = true;
    const memo = Mime({ state, name: "locked-failing-leases", lock: true, onError: () => undefined })(async (x: number) => x * 3);
    await expect(memo(2)).resolves.toBe(6);
    expect(state.locks).toBe(1);
    expect(state.writes).toBe(1);
    state.release();
  });

  it("with lock and a healthy state, the write lands before the call returns and the lease is released", async () => {
    const state = new SlowWritesWithLeases();
    const memo = Mime({ state, name: "locked-healthy", lock: true })(async (x: number) => x * 5);
    let returned = false;
    const call = memo(2).then((value) => {
      returned = true;
      return value;
    });
    await sleep(10);
    expect(state.locks).toBe(1);
    expect(returned).toBe(false);
    state.release();
    await expect(call).resolves.toBe(10);
  });
});
