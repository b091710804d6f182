// Compiled with experimentalDecorators (see tsconfig.legacy.json): the same Mime export must work.
import { Config, ConfigError, MemoryState, Mime } from "../src/index";

afterEach(() => Mime.setConfig(new Config()));

describe("legacy experimentalDecorators", () => {
  it("memoizes sync methods per instance", () => {
    class Counter {
      calls = 0;
      constructor(private readonly base: number) {}
      @Mime({ ttl: 60 })
      plus(x: number): number {
        this.calls++;
        return this.base + x;
      }
    }
    const a = new Counter(100);
    const b = new Counter(200);
    expect([a.plus(1), a.plus(1), b.plus(1)]).toEqual([101, 101, 201]);
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it("memoizes async methods with single-flight", async () => {
    let executions = 0;
    class Users {
      @Mime({ ttl: 60 })
      async find(id: string): Promise<{ id: string }> {
        executions++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { id };
      }
    }
    const users = new Users();
    const results = await Promise.all(Array.from({ length: 20 }, () => users.find("x")));
    expect(new Set(results).size).toBe(1);
    expect(executions).toBe(1);
  });

  it("gives handles acting on the instance they are read from", () => {
    class Repo {
      constructor(readonly tenant: string) {}
      @Mime()
      find(id: number): string {
        return `${this.tenant}:${id}`;
      }
    }
    const a = new Repo("a");
    const b = new Repo("b");
    a.find(1);
    b.find(1);
    Mime.handles(a.find).invalidate(1);
    expect(Mime.handles(a.find).peek(1)).toBeUndefined();
    expect(Mime.handles(b.find).peek(1)).toMatchObject({ value: "b:1" });
  });

  it("memoizes static methods", () => {
    let calls = 0;
    class Maths {
      @Mime()
      static square(x: number): number {
        calls++;
        return x * x;
      }
    }
    expect([Maths.square(3), Maths.square(3)]).toEqual([9, 9]);
    expect(calls).toBe(1);
  });

  it("needs a key for methods on a shared state", () => {
    class SharedState extends MemoryState {
      override readonly local = false as unknown as true;
    }
    const state = new SharedState();
    class Repo {
      @Mime({ state })
      find(id: number): number {
        return id;
      }
    }
    expect(() => new Repo().find(1)).toThrow(ConfigError);
  });

  it("keys a decorated method per instance even when it does not read `this` (its handles act on that instance)", () => {
    let calls = 0;
    class Repo {
      @Mime({ state: new MemoryState() })
      find(id: number): number {
        calls++;
        return id;
      }
    }
    const a = new Repo();
    const b = new Repo();
    a.find(1);
    b.find(1);
    expect(calls).toBe(2);
    Mime.handles(a.find).clear();
    b.find(1);
    expect(calls).toBe(2);
    a.find(1);
    expect(calls).toBe(3);
  });
});
