import { readsThis } from "../src/keys/this-use";

describe("readsThis: whether a function can tell which `this` it was called with", () => {
  class Base {
    name = "base";
    greet(): string {
      return this.name;
    }
  }
  class Child extends Base {
    override greet(): string {
      return super.greet();
    }
    plain(n: number): number {
      return n;
    }
  }
  const shorthand = {
    withThis(): unknown {
      return this;
    },
    without(n: number): number {
      return n;
    },
    async asyncWithout(n: number): Promise<number> {
      return n;
    },
  };

  test.each([
    ["an arrow function", (n: number) => n * 2, false],
    ["an arrow function that mentions this (its enclosing scope's)", eval("() => this"), false],
    ["an async arrow function", async (n: number) => n, false],
    ["a one-parameter arrow without parentheses", eval("x => x"), false],
    ["an async one-parameter arrow", eval("async x => x"), false],
    ["a function without this", function double(n: number) {
      return n * 2;
    }, false],
    ["a function that reads this", function (this: { n: number }) {
      return this.n;
    }, true],
    ["a method that reads this", Base.prototype.greet, true],
    ["a method that calls super", Child.prototype.greet, true],
    ["a method without this", Child.prototype.plain, false],
    ["a shorthand method that reads this", shorthand.withThis, true],
    ["a shorthand method without this", shorthand.without, false],
    ["an async shorthand method without this", shorthand.asyncWithout, false],
    ["a function with a direct eval", eval("(function (code) { return eval(code); })"), true],
    ["a bound function (no source)", function (n: number) {
      return n;
    }.bind(null), true],
    ["a native function", Array.prototype.push, true],
  ])("%s", (_, fn, expected) => {
    expect(readsThis(fn)).toBe(expected);
  });
});
