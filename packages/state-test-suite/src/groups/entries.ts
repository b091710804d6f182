import { expectHit, expectMiss } from "../assertions.js";
import type { SuiteContext } from "../harness.js";
import type { OperationsKind } from "../operations.js";

/** Miss and hit, overwrite, delete, clear, and isolation between two states. */
export function registerEntryTests(context: SuiteContext, kind: OperationsKind): void {
  context.test("a key that was never set is a miss (undefined)", async () => {
    const state = kind.bind(await context.createState());
    expectMiss(await state.get("never-set"), "get on a fresh state");
    await state.set("other", "value", null);
    expectMiss(await state.get("never-set"), "get of a key that was not set, after another key was");
  });

  context.test("a stored value is a hit: an object whose value is what was stored", async () => {
    const state = kind.bind(await context.createState());
    await state.set("greeting", "hello", null);
    await state.set("answer", { answer: 42 }, null);
    expectHit(await state.get("greeting"), "hello", 'get("greeting")');
    expectHit(await state.get("answer"), { answer: 42 }, 'get("answer")');
    expectHit(await state.get("greeting"), "hello", 'a second get("greeting")');
  });

  context.test("set overwrites: the new value replaces the old one", async () => {
    const state = kind.bind(await context.createState());
    await state.set("k", "first", null);
    await state.set("k", { second: true }, null);
    expectHit(await state.get("k"), { second: true }, "get after an overwrite");
    await state.set("k", "third", 60);
    expectHit(await state.get("k"), "third", "get after overwriting with a ttl");
  });

  context.test("delete removes the entry and leaves other keys alone; the key can be set again", async () => {
    const state = kind.bind(await context.createState());
    await state.set("doomed", 1, null);
    await state.set("kept", 2, null);
    await state.set("doomed-too", 3, 60);
    await state.delete("doomed");
    await state.delete("doomed-too");
    expectMiss(await state.get("doomed"), "get after delete");
    expectMiss(await state.get("doomed-too"), "get after deleting an entry with a ttl");
    expectHit(await state.get("kept"), 2, "get of a key that was not deleted");
    await state.set("doomed", "again", null);
    expectHit(await state.get("doomed"), "again", "get after setting a deleted key again");
  });

  context.test("deleting a missing key succeeds", async () => {
    const state = kind.bind(await context.createState());
    await state.delete("never-set");
    await state.set("k", 1, null);
    await state.delete("k");
    await state.delete("k");
    expectMiss(await state.get("k"), "get after deleting twice");
  });

  context.test("clear removes every entry, works on an empty state, and the state stays usable", async () => {
    const state = kind.bind(await context.createState());
    await state.clear();
    const keys = ["a", "b", "c|d", "e:f"];
    for (const [i, key] of keys.entries()) await state.set(key, i, i % 2 === 0 ? null : 60);
    await state.clear();
    for (const key of keys) expectMiss(await state.get(key), `get(${JSON.stringify(key)}) after clear`);
    await state.set("a", "after clear", null);
    expectHit(await state.get("a"), "after clear", "get of a key set after clear");
  });

  context.test("two states don't see each other's entries, and clear leaves the other state's alone", async () => {
    const first = kind.bind(await context.createState());
    const second = kind.bind(await context.createState());
    await first.set("shared-key", "first", null);
    await second.set("shared-key", "second", null);
    await first.set("only-first", 1, null);
    await second.set("only-second", 2, null);
    expectHit(await first.get("shared-key"), "first", "the first state's get of a key both states set");
    expectHit(await second.get("shared-key"), "second", "the second state's get of a key both states set");
    expectMiss(await second.get("only-first"), "the second state's get of a key only the first state set");
    expectMiss(await first.get("only-second"), "the first state's get of a key only the second state set");
    await first.delete("shared-key");
    expectHit(await second.get("shared-key"), "second", "the second state's entry after the first state deleted the same key");
    await first.clear();
    expectMiss(await first.get("only-first"), "the first state's get after its clear");
    expectHit(await second.get("shared-key"), "second", "the second state's entry after the first state's clear");
    expectHit(await second.get("only-second"), 2, "the second state's other entry after the first state's clear");
  });
}
