// Compiled with TC39 decorators (TypeScript 5's default).
import { Mime } from "../src/index";

describe("TC39 decorators", () => {
  it("memoizes async methods per instance with single-flight", async () => {
    let executions = 0;
    class Users {
      constructor(readonly tenant: string) {}
      @Mime({ ttl: 60 })
      async find(id: string): Promise<string> {
        executions++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return `${this.tenant}/${id}`;
      }
    }
    const a = new Users("a");
    const b = new Users("b");
    const results = await Promise.all([a.find("1"), a.find("1"), b.find("1"), b.find("1")]);
    expect(results).toEqual(["a/1", "a/1", "b/1", "b/1"]);
    expect(executions).toBe(2);
    await expect(a.find("1")).resolves.toBe("a/1");
    expect(executions).toBe(2);
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

  it("keeps the method's types", () => {
    class Typed {
      @Mime()
      add(a: number, b: number): number {
        return a + b;
      }
    }
    const sum: number = new Typed().add(1, 2);
    // @ts-expect-error: a string is not a number
    expect(() => new Typed().add("1", 2)).not.toThrow();
    expect(sum).toBe(3);
  });
});
