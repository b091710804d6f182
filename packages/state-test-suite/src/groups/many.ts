import type { BatchReadingState, BatchWritingState, CacheEntry } from "@mimic/core";
import { ConformanceError, expectHit, expectMiss } from "../assertions.js";
import { mimicKey } from "../fixtures/keys.js";
import { showKey } from "../format.js";
import type { Scenario } from "../scenarios.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function getMany(state: BatchReadingState, keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
  const answer = state.getMany(keys);
  if (!(answer instanceof Promise) && typeof (answer as { then?: unknown })?.then !== "function") {
    throw new ConformanceError(`getMany must return a promise, got ${typeof answer}`);
  }
  const entries = await answer;
  if (!Array.isArray(entries) || entries.length !== keys.length) {
    throw new ConformanceError(`getMany(${keys.length} keys) must resolve with one result per key, got ${Array.isArray(entries) ? `${entries.length} results` : typeof entries}`);
  }
  return entries;
}

/** `getMany`: one result per key, in order, with the same miss/hit convention as `get`. */
export function manyReadScenarios(timeScale: number): Scenario<BatchReadingState>[] {
  return [
    {
      title: "getMany answers each key as get would, in order: hits (a cached undefined too), misses, a key given twice",
      async run(env) {
        const state = await env.create();
        const [a, b, u] = [mimicKey("many-a"), mimicKey("many-b"), mimicKey("many-undefined")];
        await state.set(a, { a: 1 }, null);
        await state.set(b, 0, 600);
        await state.set(u, undefined, null);
        const missing = mimicKey("many-missing");
        const entries = await getMany(state, [b, missing, a, u, a]);
        expectHit(entries[0], 0, `getMany()[0] (${showKey(b)})`);
        expectMiss(entries[1], `getMany()[1] (${showKey(missing)})`);
        expectHit(entries[2], { a: 1 }, `getMany()[2] (${showKey(a)})`);
        expectHit(entries[3], undefined, `getMany()[3] (${showKey(u)}, a cached undefined)`);
        expectHit(entries[4], { a: 1 }, `getMany()[4] (${showKey(a)} again)`);
        expect0(await getMany(state, []));
      },
    },
    {
      title: "getMany does not return expired or deleted entries",
      async run(env) {
        const state = await env.create();
        const [short, gone, kept] = [mimicKey("many-short"), mimicKey("many-gone"), mimicKey("many-kept")];
        await state.set(short, "short", 0.2 * timeScale);
        await state.set(gone, "gone", null);
        await state.set(kept, "kept", null);
        await state.delete(gone);
        await sleep(450 * timeScale);
        const entries = await getMany(state, [short, gone, kept]);
        expectMiss(entries[0], `getMany()[0] (${showKey(short)}) after its ttl`);
        expectMiss(entries[1], `getMany()[1] (${showKey(gone)}) after delete`);
        expectHit(entries[2], "kept", `getMany()[2] (${showKey(kept)})`);
      },
    },
  ];
}

function expect0(entries: readonly unknown[]): void {
  if (entries.length !== 0) throw new ConformanceError(`getMany([]) must resolve with [], got ${entries.length} results`);
}

/** `setMany`: each entry stored as `set` would store it, with its own ttl. */
export function manyWriteScenarios(timeScale: number): Scenario<BatchWritingState>[] {
  return [
    {
      title: "setMany stores every entry as set would, each with its own ttl, replacing earlier values",
      async run(env) {
        const state = await env.create();
        const [a, b, c] = [mimicKey("setmany-a"), mimicKey("setmany-b"), mimicKey("setmany-c")];
        await state.set(a, "old", null);
        await state.setMany([
          { key: a, value: "new", ttl: null },
          { key: b, value: { n: [1, 2] }, ttl: 0.2 * timeScale },
          { key: c, value: undefined, ttl: 600 },
        ]);
        expectHit(await state.get(a), "new", `get(${showKey(a)}) after setMany replaced it`);
        expectHit(await state.get(b), { n: [1, 2] }, `get(${showKey(b)}) right after setMany`);
        expectHit(await state.get(c), undefined, `get(${showKey(c)}) (a cached undefined)`);
        await sleep(450 * timeScale);
        expectMiss(await state.get(b), `get(${showKey(b)}) after its own ttl`);
        expectHit(await state.get(c), undefined, `get(${showKey(c)}), whose ttl has not run out`);
        await state.setMany([]);
      },
    },
  ];
}
