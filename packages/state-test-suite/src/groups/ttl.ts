import { expectHit, expectMiss } from "../assertions.js";
import type { SuiteContext } from "../harness.js";
import type { OperationsKind } from "../operations.js";

/** A ttl short enough to wait out (seconds, before `timeScale`). */
const SHORT_TTL = 0.1;
/** How long past an entry's expiry the suite waits before expecting a miss (seconds, before `timeScale`). */
const MARGIN = 0.1;
/** A ttl no test outlives. */
const LONG_TTL = 600;

/**
 * Expiry in real time. A ttl of 0 means "already expired": the entry is a miss at once (and an
 * overwrite with ttl 0 removes the old value), which is what core's `isExpired(expiresAt(0))` says.
 */
export function registerTtlTests(context: SuiteContext, kind: OperationsKind): void {
  context.test("an entry expires after its ttl, a longer-lived one stays, and the key can be set again", async () => {
    const state = kind.bind(await context.createState());
    await state.set("short", "short-lived", context.ttl(SHORT_TTL));
    await state.set("long", "long-lived", context.ttl(LONG_TTL));
    await context.wait(SHORT_TTL + MARGIN);
    expectMiss(await state.get("short"), `get ${context.ttl(SHORT_TTL + MARGIN)} s after setting with ttl ${context.ttl(SHORT_TTL)} s`);
    expectHit(await state.get("long"), "long-lived", `get of an entry with ttl ${context.ttl(LONG_TTL)} s`);
    await state.set("short", "again", null);
    expectHit(await state.get("short"), "again", "get after setting an expired key again");
  });

  context.test("a fractional ttl is honoured: neither truncated to 0 nor rounded up to a whole second", async () => {
    const state = kind.bind(await context.createState());
    const ttl = context.ttl(0.6);
    await state.set("k", "fractional", ttl);
    expectHit(await state.get("k"), "fractional", `get right after setting with ttl ${ttl} s`);
    await context.wait(0.6 + 0.15);
    expectMiss(await state.get("k"), `get ${context.ttl(0.75)} s after setting with ttl ${ttl} s`);
  });

  context.test("a null ttl never expires", async () => {
    const state = kind.bind(await context.createState());
    await state.set("forever", "kept", null);
    await state.set("short", "gone", context.ttl(SHORT_TTL));
    await context.wait(SHORT_TTL + MARGIN);
    // The short-lived sibling proves the wait was long enough for an expiry to happen.
    expectMiss(await state.get("short"), `get of an entry with ttl ${context.ttl(SHORT_TTL)} s after the wait`);
    expectHit(await state.get("forever"), "kept", "get of an entry with a null ttl after the wait");
  });

  context.test("a ttl of 0 is expired at once: a miss, also when it overwrites an entry", async () => {
    const state = kind.bind(await context.createState());
    await state.set("zero", "expired", 0);
    expectMiss(await state.get("zero"), "get of an entry set with ttl 0");
    await state.set("overwritten", "old", null);
    await state.set("overwritten", "new", 0);
    expectMiss(await state.get("overwritten"), "get after overwriting an entry with ttl 0");
    await state.set("zero", "stored", null);
    expectHit(await state.get("zero"), "stored", "get after setting the key again with a null ttl");
  });

  context.test("overwriting refreshes the ttl: a short-lived entry overwritten with a null or long ttl stays", async () => {
    const state = kind.bind(await context.createState());
    await state.set("to-null", "old", context.ttl(SHORT_TTL));
    await state.set("to-null", "new", null);
    await state.set("to-long", "old", context.ttl(SHORT_TTL));
    await state.set("to-long", "new", context.ttl(LONG_TTL));
    await context.wait(SHORT_TTL + MARGIN);
    expectHit(await state.get("to-null"), "new", "get after overwriting a short ttl with a null ttl");
    expectHit(await state.get("to-long"), "new", `get after overwriting a short ttl with ttl ${context.ttl(LONG_TTL)} s`);
  });

  context.test("overwriting refreshes the ttl: an entry without ttl overwritten with a short ttl expires", async () => {
    const state = kind.bind(await context.createState());
    await state.set("k", "old", null);
    await state.set("k", "new", context.ttl(SHORT_TTL));
    await context.wait(SHORT_TTL + MARGIN);
    expectMiss(await state.get("k"), `get after overwriting a null ttl with ttl ${context.ttl(SHORT_TTL)} s and waiting`);
  });
}
