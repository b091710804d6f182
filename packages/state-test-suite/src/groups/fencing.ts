import type { FencingState, SetOptions } from "@mimic/core";
import { preciseNow } from "@mimic/core/state-kit";
import { expectHit, expectMiss } from "../assertions.js";
import { mimicKey } from "../fixtures/keys.js";
import { showKey } from "../format.js";
import type { Scenario } from "../scenarios.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A moment safely before and after "now", by this process's clock. */
async function before(): Promise<number> {
  const moment = preciseNow();
  await sleep(15);
  return moment;
}

function fenced(startedAt: number, tags?: readonly string[]): SetOptions {
  return tags === undefined ? { startedAt } : { startedAt, tags };
}

/** `fencesWrites`: a value whose execution began before an invalidation of its key is not stored. */
export function fencingScenarios(): Scenario<FencingState>[] {
  return [
    {
      title: "a write whose execution began before a delete of its key is not stored; one that began after is",
      async run(env) {
        const state = await env.create();
        const key = mimicKey("fenced-delete");
        const startedAt = await before();
        await state.delete(key);
        await state.set(key, "stale", null, fenced(startedAt));
        expectMiss(await state.get(key), `get(${showKey(key)}) after a write that began before the delete`);
        // Well after the delete, even for a state that reads the clock of another machine.
        await sleep(60);
        const later = preciseNow();
        await state.set(key, "fresh", null, fenced(later));
        expectHit(await state.get(key), "fresh", `get(${showKey(key)}) after a write that began after the delete`);
      },
    },
    {
      title: "clear fences every key; a write without startedAt is not fenced",
      async run(env) {
        const state = await env.create();
        const [a, b] = [mimicKey("fenced-clear-a"), mimicKey("fenced-clear-b")];
        const startedAt = await before();
        await state.clear();
        await state.set(a, "stale", 600, fenced(startedAt));
        await state.set(b, "unfenced", 600);
        expectMiss(await state.get(a), `get(${showKey(a)}) after a write that began before clear()`);
        expectHit(await state.get(b), "unfenced", `get(${showKey(b)}) written without startedAt`);
      },
    },
    {
      title: "invalidateTags fences the writes of entries carrying the tag, not others (states with tags)",
      async run(env) {
        const state = await env.create();
        const invalidate = (state as { invalidateTags?: (tags: readonly string[]) => Promise<void> }).invalidateTags;
        if (typeof invalidate !== "function") return;
        const [tagged, other] = [mimicKey("fenced-tag-a"), mimicKey("fenced-tag-b")];
        // Both tags known to the state before the execution begins (a state may refuse, to be safe,
        // the first write of a tag it has no record of yet).
        await state.set(mimicKey("fenced-tag-seed"), "seed", null, { tags: ["fence-a", "fence-b"] });
        await sleep(60);
        const startedAt = await before();
        await invalidate.call(state, ["fence-a"]);
        await state.set(tagged, "stale", null, fenced(startedAt, ["fence-a"]));
        await state.set(other, "other", null, fenced(startedAt, ["fence-b"]));
        expectMiss(await state.get(tagged), `get(${showKey(tagged)}) written after its tag was invalidated, by an execution that began before`);
        expectHit(await state.get(other), "other", `get(${showKey(other)}), whose tag was not invalidated`);
      },
    },
  ];
}
