import { MemoryState, Mime } from "../src/index";
import { CLOCK_TICK_MS, READS_PER_REFRESH } from "../src/coarse-clock";

// The hit path reads a coarse clock: an entry may be served at most one clock tick past its ttl
// (1 ms while the event loop turns, or READS_PER_REFRESH hits within one synchronous stretch), and
// never treated as expired early.
describe.each(["lru", "tinylfu"] as const)("coarse clock (%s)", (policy) => {
  test("once the event loop has turned past the ttl (plus one tick), a hit is a miss", async () => {
    let calls = 0;
    const f = Mime({ ttl: 0.03, state: new MemoryState({ policy }) })((n: number) => n + calls++ * 0);
    f(1);
    f(1);
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30 + CLOCK_TICK_MS + 5));
    f(1);
    expect(calls).toBe(2);
  });

  test("in a synchronous loop across expiry, at most one tick of hits is served late", () => {
    let calls = 0;
    const f = Mime({ ttl: 0.02, state: new MemoryState({ policy }) })((n: number) => (calls++, n));
    f(7);
    const written = Date.now();
    let lateHits = 0;
    while (calls === 1) {
      const before = Date.now();
      f(7);
      if (calls === 1 && before >= written + 20 + 1) lateHits++; // served although the ttl had run out
      if (Date.now() > written + 2000) throw new Error("the entry never expired");
    }
    expect(lateHits).toBeLessThanOrEqual(READS_PER_REFRESH);
  });

  test("never expired early: a hit just before expiry is a hit", () => {
    let calls = 0;
    const f = Mime({ ttl: 60, state: new MemoryState({ policy }) })((n: number) => (calls++, n));
    f(1);
    for (let i = 0; i < 10_000; i++) f(1);
    expect(calls).toBe(1);
  });
});
