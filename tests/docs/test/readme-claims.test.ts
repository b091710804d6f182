// What the READMEs say about `ttl: 0` and `stats()` on a decorated method.
import { Mime } from "@mimic/core";
import { MyState } from "../snippets/my-state";

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("ttl: 0 (packages/core/README.md)", () => {
  it("runs a sync function on every call", () => {
    let runs = 0;
    const f = Mime({ ttl: 0 })((n: number) => n + ++runs * 0);
    f(1);
    f(1);
    f(1);
    expect(runs).toBe(3);
  });

  it("still shares one execution between concurrent calls of an async function", async () => {
    let runs = 0;
    const f = Mime({ ttl: 0 })(async (n: number) => {
      runs++;
      await new Promise((resolve) => setImmediate(resolve));
      return n;
    });
    expect(await Promise.all([f(1), f(1), f(1)])).toEqual([1, 1, 1]);
    expect(runs).toBe(1);
    await f(1);
    expect(runs).toBe(2);
  });

  it("writes with ttl 0, which the state treats as expired at once", async () => {
    const state = new MyState(); // a plain IState: every write goes through set
    const writes: Array<number | null> = [];
    const set = state.set.bind(state);
    state.set = (key, value, ttl, ...rest) => (writes.push(ttl), set(key, value, ttl, ...rest));
    const f = Mime({ ttl: 0, state })(async (n: number) => n);
    await f(1);
    expect(writes).toEqual([0]);
    expect(await f.peek(1)).toBeUndefined();
  });

  it("with staleWhileRevalidate, answers with the last value while refreshing in the background", async () => {
    let version = 0;
    const f = Mime({ ttl: 0, staleWhileRevalidate: 60 })(async () => ++version);
    expect(await f()).toBe(1);
    expect(await f()).toBe(1); // stale at once: the old value, and a refresh starts
    await until(() => version === 2);
    expect(version).toBe(2);
    expect(await f()).toBe(2);
  });
});

describe("stats() on a decorated method (README: over all instances)", () => {
  it("counts the calls of every instance together", () => {
    class Prices {
      @Mime({ ttl: 60 })
      get(symbol: string): string {
        return symbol;
      }
    }
    const a = new Prices();
    const b = new Prices();
    a.get("X");
    a.get("X");
    b.get("X");
    expect(Mime.handles(a.get).stats()).toMatchObject({ hits: 1, misses: 2 });
    expect(Mime.handles(b.get).stats()).toEqual(Mime.handles(a.get).stats());
  });
});
