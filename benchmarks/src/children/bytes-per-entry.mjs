// Bytes per cached entry (scenario 12d), one cache per process so each starts from a clean heap.
// Plain .mjs run with `node --expose-gc`; imports the built dists through the workspace links.
//
// argv[2]: "mimic-lru" | "mimic-tinylfu" | "lru-cache"; argv[3]: entries.
// Prints one JSON line: { bytesPerEntry, heapBytesPerEntry, bufferBytesPerEntry, entries }. Typed arrays
// keep their contents outside the V8 heap (lru-cache's links, W-TinyLFU's sketch), so the total
// counts `arrayBuffers` next to `heapUsed`: heap alone would leave those out.
import { MemoryState, Mime } from "@mimic/core";
import { LRUCache } from "lru-cache";

const which = process.argv[2];
const entries = Number(process.argv[3]);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

function settle() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

function makeCache(size) {
  if (which === "lru-cache") {
    const cache = new LRUCache({ max: size });
    const call = (id) => {
      let value = cache.get(id);
      if (value === undefined) cache.set(id, (value = fn(id)));
      return value;
    };
    return { call, size: () => cache.size };
  }
  const state = new MemoryState({ maxEntries: size, policy: which === "mimic-tinylfu" ? "tinylfu" : "lru", sweepInterval: 0 });
  return { call: Mime({ state })(fn), size: () => state.size };
}

const fn = (id) => id * 2 + 1;
// A small cache first, so that code compiled on first use is not counted; the measured cache is
// created after the first reading (its construction is counted: lru-cache allocates its arrays then).
const warm = makeCache(64);
for (let id = 0; id < 1_000; id++) warm.call(id);
const before = settle();
const cache = makeCache(entries);
for (let id = 0; id < entries; id++) cache.call(id);
const after = settle();
for (let id = 0; id < entries; id += 997) if (cache.call(id) !== fn(id)) throw new Error(`${which}: wrong value for ${id}`);
if (cache.size() !== entries) throw new Error(`${which}: holds ${cache.size()} entries, expected ${entries}`);
const heapBytesPerEntry = (after.heapUsed - before.heapUsed) / entries;
const bufferBytesPerEntry = (after.arrayBuffers - before.arrayBuffers) / entries;
console.log(JSON.stringify({ bytesPerEntry: heapBytesPerEntry + bufferBytesPerEntry, heapBytesPerEntry, bufferBytesPerEntry, entries }));
