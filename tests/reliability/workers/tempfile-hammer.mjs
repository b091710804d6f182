// @ts-check
// One of the processes that hammer one static temp-file directory: mixed reads, writes, deletes and
// memoized calls on a small set of keys, every value read checked byte for byte. Started with fork();
// argv[2] is { basePath, ops, keys, lanes, index } as JSON. Sends { type: "ready" }, waits for
// { type: "go" } so that all processes start together, then sends { type: "result" } and exits.
import { Mime } from "@mimic/core";
import { TempFileState } from "@mimic/state-tempfile";
import { checkValue, makeValue, memoValue, random } from "./shared.cjs";

/** @type {{ basePath: string, ops: number, keys: number, lanes: number, index: number }} */
const config = JSON.parse(process.argv[2] ?? "{}");
const next = random(1000 + config.index);
const state = new TempFileState({ basePath: config.basePath, static: true });

const counts = { ops: 0, reads: 0, hits: 0, writes: 0, deletes: 0, calls: 0, exceptions: 0, wrong: 0 };
/** @type {string[]} */
const failures = [];
/** @type {Record<string, number>} */
const byOp = {};

/** @type {Record<string, number>} */
const reported = {};
/** @param {import("@mimic/core").MimicError} error */
function onError(error) {
  reported[error.code] = (reported[error.code] ?? 0) + 1;
  if (failures.length < 10) failures.push(`onError: ${error.message}`);
}
const memoSync = Mime({ state, name: "reliability.hammer.sync", onError })(function memoSync(/** @type {string} */ key) {
  return memoValue(key);
});
const memoAsync = Mime({ state, name: "reliability.hammer.async", onError })(async function memoAsync(/** @type {string} */ key) {
  return memoValue(key);
});

function pickKey() {
  return `hammer|k${Math.floor(next() * config.keys)}`;
}
/** Sizes from 16 bytes to 256 KiB, most of them small: many renames, some long writes. */
function pickSize() {
  return Math.floor(16 * 2 ** (next() * 14));
}
/** 1 write in 10 expires after 50 ms, so reads also meet (and remove) expired entries. */
function pickTtl() {
  return next() < 0.1 ? 0.05 : null;
}
let seq = 0;

/** @param {string} key @param {import("@mimic/core").CacheEntry | undefined} entry */
function checkRead(key, entry) {
  counts.reads++;
  if (entry !== undefined) counts.hits++;
  const problem = checkValue(key, entry?.value);
  if (problem !== undefined) {
    counts.wrong++;
    if (failures.length < 10) failures.push(`read ${key}: ${problem}`);
  }
}

/** @param {string} key @param {unknown} value */
function checkCall(key, value) {
  counts.calls++;
  if (JSON.stringify(value) !== JSON.stringify(memoValue(key))) {
    counts.wrong++;
    if (failures.length < 10) failures.push(`call ${key}: wrong value`);
  }
}

async function operation() {
  const roll = next();
  const key = pickKey();
  const op =
    roll < 0.25 ? "get" : roll < 0.45 ? "getSync" : roll < 0.6 ? "set" : roll < 0.75 ? "setSync" :
    roll < 0.8 ? "delete" : roll < 0.9 ? "memoSync" : "memoAsync";
  byOp[op] = (byOp[op] ?? 0) + 1;
  switch (op) {
    case "get":
      return checkRead(key, await state.get(key));
    case "getSync":
      return checkRead(key, state.getSync(key));
    case "set":
      counts.writes++;
      return state.set(key, makeValue(key, `${config.index}.${++seq}`, pickSize()), pickTtl());
    case "setSync":
      counts.writes++;
      return state.setSync(key, makeValue(key, `${config.index}.${++seq}`, pickSize()), pickTtl());
    case "delete":
      counts.deletes++;
      return next() < 0.5 ? state.delete(key) : state.deleteSync(key);
    case "memoSync":
      return checkCall(key, memoSync(key));
    default:
      return checkCall(key, await memoAsync(key));
  }
}

async function lane(/** @type {number} */ ops) {
  for (let i = 0; i < ops; i++) {
    try {
      await operation();
    } catch (error) {
      counts.exceptions++;
      if (failures.length < 10) failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    counts.ops++;
  }
}

await new Promise((resolve) => {
  process.on("message", (/** @type {{ type: string }} */ message) => {
    if (message.type === "go") resolve(undefined);
  });
  process.send?.({ type: "ready" });
});
const started = performance.now();
// A few lanes per process, so that the process's own async operations also overlap.
const perLane = Math.floor(config.ops / config.lanes);
await Promise.all(Array.from({ length: config.lanes }, (_, i) => lane(i === 0 ? config.ops - perLane * (config.lanes - 1) : perLane)));
process.send?.({
  type: "result",
  index: config.index,
  elapsedMs: performance.now() - started,
  counts,
  byOp,
  reported,
  failures,
  memoStats: { sync: memoSync.stats(), async: memoAsync.stats() },
});
await state.close();
process.disconnect();
