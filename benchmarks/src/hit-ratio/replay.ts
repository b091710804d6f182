import { MemoryState, Mime, type MemoryStatePolicy } from "@mimic/core";
import { LRUCache } from "lru-cache";
import type { Trace } from "./traces.js";

/** Which requests of a trace were hits (1) or misses (0). */
export type Hits = Uint8Array;

/**
 * Replays a trace through a function memoized by Mime on its own `MemoryState` of the trace's cache
 * size: a request is a hit when the function did not run. Every result is checked.
 */
export function mimicHits(trace: Trace, policy: MemoryStatePolicy): Hits {
  const state = new MemoryState({ maxEntries: trace.cacheSize, policy, sweepInterval: 0 });
  let executions = 0;
  const memo = Mime({ state })(function load(key: number): number {
    executions++;
    return key * 2 + 1;
  });
  const hits = new Uint8Array(trace.keys.length);
  for (let i = 0; i < trace.keys.length; i++) {
    const key = trace.keys[i]!;
    const before = executions;
    if (memo(key) !== key * 2 + 1) throw new Error(`Mimic (${policy}) returned a wrong value for ${key}`);
    if (executions === before) hits[i] = 1;
    if (state.size > trace.cacheSize) throw new Error(`Mimic (${policy}) holds ${state.size} entries, bound ${trace.cacheSize}`);
  }
  return hits;
}

/** Replays a trace through lru-cache (exact LRU) used as a get-or-set memo. */
export function lruCacheHits(trace: Trace): Hits {
  const cache = new LRUCache<number, number>({ max: trace.cacheSize });
  const hits = new Uint8Array(trace.keys.length);
  for (let i = 0; i < trace.keys.length; i++) {
    const key = trace.keys[i]!;
    if (cache.get(key) !== undefined) hits[i] = 1;
    else cache.set(key, key * 2 + 1);
  }
  return hits;
}

/** Hits as a percentage of the requests in [from, to). */
export function hitPercent(hits: Hits, from = 0, to = hits.length): number {
  let count = 0;
  for (let i = from; i < to; i++) count += hits[i]!;
  return to > from ? (100 * count) / (to - from) : NaN;
}

/** Hit percentage over the `window` requests that follow each of `ends` (the ends of scans). */
export function hitPercentAfter(hits: Hits, ends: readonly number[], window: number): number {
  let count = 0;
  let requests = 0;
  for (const end of ends) {
    for (let i = end; i < Math.min(end + window, hits.length); i++) {
      count += hits[i]!;
      requests++;
    }
  }
  return requests > 0 ? (100 * count) / requests : NaN;
}
