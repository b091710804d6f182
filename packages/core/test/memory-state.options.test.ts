import { InvalidOptionError, MemoryState } from "../src/index";

describe("MemoryState options", () => {
  it("rejects an unknown option by name, with the nearest known one and the list", () => {
    const make = () => new MemoryState({ max_entries: 10 } as never);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(
      'MemoryState: unknown option "max_entries" (did you mean "maxEntries"?); known options: maxEntries, policy, sweepInterval, onEvict',
    );
    expect(() => new MemoryState({ ttl: 5 } as never)).toThrow(/MemoryState: unknown option "ttl"/);
  });

  it("rejects options that are not an object", () => {
    expect(() => new MemoryState(null as never)).toThrow(InvalidOptionError);
    expect(() => new MemoryState(5 as never)).toThrow("MemoryState: options must be an object, got 5");
  });

  it("accepts every documented option, and none at all", () => {
    expect(() => new MemoryState({ maxEntries: 5, sweepInterval: 0, onEvict: undefined })).not.toThrow();
    expect(() => new MemoryState({})).not.toThrow();
    expect(() => new MemoryState()).not.toThrow();
  });
});
