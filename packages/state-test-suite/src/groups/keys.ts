import { ConformanceError, expectHit, expectMiss } from "../assertions.js";
import { keyGroups, thousandKeys } from "../fixtures/keys.js";
import { preview, showKey } from "../format.js";
import type { SuiteContext } from "../harness.js";
import type { Operations, OperationsKind } from "../operations.js";
import { inBatches } from "../batches.js";

/** Every group of keys gets distinct values; a collision shows as a key reading another key's value. */
export function registerKeyTests(context: SuiteContext, kind: OperationsKind): void {
  for (const group of keyGroups) {
    context.test(group.title, async () => {
      const keys = group.keys();
      assertDistinct(keys, group.title);
      const state = kind.bind(await context.createState());
      for (const [i, key] of keys.entries()) await state.set(key, i, null);
      await expectOwnValues(state, keys);
    });
  }

  context.test("1,000 distinct keys don't interfere, 100 operations in flight, and deleting half keeps the rest", async () => {
    const keys = thousandKeys();
    assertDistinct(keys, "1,000 keys");
    const state = kind.bind(await context.createState());
    await inBatches(keys, (key, i) => state.set(key, { i }, null));
    const entries = await inBatches(keys, (key) => state.get(key));
    for (const [i, entry] of entries.entries()) expectHit(entry, { i }, `get(${showKey(keys[i]!)})`);
    await inBatches(keys, (key, i) => (i % 2 === 0 ? state.delete(key) : Promise.resolve()));
    for (const [i, key] of keys.entries()) {
      const entry = await state.get(key);
      if (i % 2 === 0) expectMiss(entry, `get(${showKey(key)}) after deleting it`);
      else expectHit(entry, { i }, `get(${showKey(key)}) after deleting other keys`);
    }
  });
}

function assertDistinct(keys: string[], title: string): void {
  if (new Set(keys).size !== keys.length) throw new ConformanceError(`the suite's own key fixture "${title}" repeats a key`);
}

async function expectOwnValues(state: Operations, keys: string[]): Promise<void> {
  for (const [i, key] of keys.entries()) {
    const entry = await state.get(key);
    if (entry === undefined) throw new ConformanceError(`get(${showKey(key)}) is a miss right after it was set`);
    if (entry.value !== i) {
      const other = typeof entry.value === "number" ? keys[entry.value] : undefined;
      throw new ConformanceError(
        other === undefined
          ? `get(${showKey(key)}) returned ${preview(entry.value)}, expected ${i}`
          : `get(${showKey(key)}) returned the value stored under ${showKey(other)}: the two keys collide`,
      );
    }
  }
}
