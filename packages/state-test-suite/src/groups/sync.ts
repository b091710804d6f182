import { hasSyncOperations, stateName } from "@mimic/core";
import { ConformanceError, expectHit, expectMiss } from "../assertions.js";
import type { SuiteContext } from "../harness.js";
import { asyncOperations, syncOperations } from "../operations.js";

/** The sync half exists when claimed, and both halves read and write the same entries. */
export function registerSyncContractTests(context: SuiteContext): void {
  context.test("has getSync and setSync, and deleteSync/clearSync are methods when present", async () => {
    const state = await context.createState();
    if (!hasSyncOperations(state)) {
      throw new ConformanceError(`capabilities.sync is true, but ${stateName(state)} lacks getSync or setSync`);
    }
    for (const member of ["deleteSync", "clearSync"] as const) {
      if (state[member] !== undefined && typeof state[member] !== "function") {
        throw new ConformanceError(`${stateName(state)}.${member} is ${typeof state[member]}, not a method`);
      }
    }
  });

  context.test("sync and async operations read and write the same entries", async () => {
    const raw = await context.createState();
    const sync = syncOperations.bind(raw);
    const async = asyncOperations.bind(raw);
    await sync.set("from-sync", { via: "setSync" }, null);
    await async.set("from-async", { via: "set" }, null);
    await sync.set("cached-undefined", undefined, null);
    expectHit(await async.get("from-sync"), { via: "setSync" }, "get of an entry written with setSync");
    expectHit(await sync.get("from-async"), { via: "set" }, "getSync of an entry written with set");
    expectHit(await async.get("cached-undefined"), undefined, "get of an undefined written with setSync");
    await async.set("from-sync", "overwritten by set", null);
    expectHit(await sync.get("from-sync"), "overwritten by set", "getSync after set overwrote a setSync entry");
    await sync.delete("from-async");
    expectMiss(await async.get("from-async"), "get after the sync delete");
    await async.delete("from-sync");
    expectMiss(await sync.get("from-sync"), "getSync after delete");
    await async.set("k", 1, null);
    await sync.clear();
    expectMiss(await async.get("k"), "get after the sync clear");
  });
}
