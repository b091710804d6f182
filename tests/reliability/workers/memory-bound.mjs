// @ts-check
// 1,000,000 distinct memoized calls on one MemoryState, in three shapes (a lone number for 4 calls
// in 6, two arguments for 1 in 6, an async call with a string for 1 in 6), sampling the state's size
// and the heap after a full GC.
// Run with --expose-gc; argv[2] is { calls, maxEntries } as JSON; prints one JSON line.
import { Mime, MemoryState } from "@mimic/core";

/** @type {{ calls: number, maxEntries: number }} */
const config = JSON.parse(process.argv[2] ?? "{}");
const gc = /** @type {() => void} */ (globalThis.gc);
if (typeof gc !== "function") throw new Error("run with --expose-gc");

function heapAfterGc() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const state = new MemoryState({ maxEntries: config.maxEntries });
let executions = 0;
const lone = Mime({ state })((/** @type {number} */ n) => (executions++, { n, text: `value ${n}` }));
const pair = Mime({ state })((/** @type {number} */ a, /** @type {string} */ b) => (executions++, { a, b }));
const later = Mime({ state })(async (/** @type {string} */ id) => (executions++, [id, id.length]));

const samples = [{ calls: 0, size: state.size, heap: heapAfterGc() }];
const sampleEvery = config.calls / 10;
let wrong = 0;
for (let i = 0; i < config.calls; ) {
  const end = Math.min(config.calls, i + 1000);
  /** @type {Promise<unknown>[]} */
  const pending = [];
  for (; i < end; i++) {
    switch (i % 6) {
      case 4:
        if (pair(i, "x").a !== i) wrong++;
        break;
      case 5: {
        const id = `id-${i}`;
        pending.push(later(id).then((v) => (/** @type {unknown[]} */ (v))[0] === id || wrong++));
        break;
      }
      default:
        if (lone(i).n !== i) wrong++;
    }
  }
  await Promise.all(pending);
  if (i % sampleEvery === 0) samples.push({ calls: i, size: state.size, heap: heapAfterGc() });
}
const executionsOfCalls = executions;
// After all that churn the cache still answers: the newest entry is there. (Under the default
// policy, tinylfu, an entry nobody reuses only outlives about 1 % of maxEntries of later writes, so
// the probe is the entry written last, not one from the middle of the final batch as under LRU.)
lone(config.calls);
const before = executions;
lone(config.calls);
const recentHit = executions === before;
console.log(JSON.stringify({ executions: executionsOfCalls, wrong, recentHit, maxEntries: state.maxEntries, samples }));
await state.close();
