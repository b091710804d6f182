// @ts-check
// One load-generating process of the Redis fault tests: calls a memoized async function on a
// RedisState at a fixed rate (open loop: a slow call does not slow the next ones down) and records
// every call. Started with fork(); the configuration is argv[2] as JSON.
//
// Protocol (IPC): sends { type: "ready" } once connected, waits for { type: "go", startAt }
// (epoch ms), runs for `durationMs`, sends { type: "result", ... }, closes the state and exits by
// itself (the parent treats a worker that does not exit as a failure).
import { setTimeout as sleep } from "node:timers/promises";
import { Mime } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { expectedValue, isExpectedValue, keyOrder, epochNow } from "./shared.cjs";

/** @type {import("./shared.cjs").RedisLoadConfig} */
const config = JSON.parse(process.argv[2] ?? "{}");
const send = /** @param {unknown} message */ (message) => process.send?.(message);

/**
 * Executions per key. A process has at most one call per key in flight (see `issue`), so a call
 * during which its key's count did not move was answered by the cache. (Not AsyncLocalStorage: on
 * Node 20 it hooks every promise, and its cost would be measured as the cache's.)
 */
const executionsOf = new Map();
/** @type {Record<string, number>} */
const reported = {};
let executions = 0;

/** The key argument of each Mime key, and the index of the call of each key in flight (not joined). */
const argumentOf = new Map();
const callOf = new Map();
/**
 * Per call: the operation timeouts reported while the call was in flight, which it waited for
 * (Mimic reports an absorbed error before the call returns).
 * @type {number[]}
 */
const timeouts = [];

const state = new RedisState({ url: config.url, prefix: config.prefix, timeout: config.timeout });
const load = Mime({
  ttl: 600,
  state,
  name: "reliability.load",
  onError(error, context) {
    reported[error.code] = (reported[error.code] ?? 0) + 1;
    const call = callOf.get(argumentOf.get(context.key));
    if (call !== undefined && error.code === "MIMIC_STATE_TIMEOUT") timeouts[call] = (timeouts[call] ?? 0) + 1;
  },
})(async function load(/** @type {number} */ k) {
  executions++;
  executionsOf.set(k, (executionsOf.get(k) ?? 0) + 1);
  await sleep(config.functionMs);
  return expectedValue(k);
});

// One warm-up call so that the connection is open before the measured run starts.
for (let attempt = 0; attempt < 100; attempt++) {
  await load(-1 - config.index);
  if ((reported.MIMIC_REDIS_UNAVAILABLE ?? 0) + (reported.MIMIC_STATE_TIMEOUT ?? 0) === 0) break;
  for (const code of Object.keys(reported)) delete reported[code];
  await sleep(100);
}
for (const code of Object.keys(reported)) delete reported[code];
executions = 0;

const go = await new Promise((resolve) => {
  process.on("message", (/** @type {{ type: string, startAt: number }} */ message) => {
    if (message.type === "go") resolve(message);
  });
  send({ type: "ready" });
});

const order = keyOrder(config.keys, config.index);
for (const k of order) argumentOf.set(load.key(k), k);
/** Keys with a call in flight. A process avoids two calls of one key in flight, so that a call that
 * did not run the function was answered by the cache; when it cannot, the call is flagged as joined. */
const inFlight = new Set();
let cursor = 0;
let skipped = 0;
// Per call: start (epoch ms), latency (ms), flags (1 = settled, 2 = hit, 4 = wrong value, 8 = rejected,
// 16 = joined a call in flight).
/** @type {number[]} */
const starts = [];
/** @type {number[]} */
const latencies = [];
/** @type {number[]} */
const flags = [];
/** @type {string[]} */
const failures = [];
/** @type {Promise<void>[]} */
const pending = [];

function issue() {
  let k = /** @type {number} */ (order[cursor++ % order.length]);
  for (let tries = 0; inFlight.has(k) && tries < order.length; tries++) {
    skipped++;
    k = /** @type {number} */ (order[cursor++ % order.length]);
  }
  // Every key has a call in flight (calls are slow, e.g. while Redis hangs): this call joins the
  // execution in flight for its key (Mime's single-flight), which is neither a hit nor a miss.
  const joins = inFlight.has(k);
  inFlight.add(k);
  const index = starts.length;
  timeouts.push(0);
  if (!joins) callOf.set(k, index);
  const executionsBefore = executionsOf.get(k) ?? 0;
  const started = performance.now();
  starts.push(epochNow());
  latencies.push(-1);
  flags.push(0);
  /** @type {Promise<unknown>} */
  let call;
  try {
    call = load(k);
  } catch (error) {
    call = Promise.reject(error);
  }
  pending.push(
    call.then(
      (value) => {
        latencies[index] = performance.now() - started;
        const right = isExpectedValue(value, k);
        const ran = (executionsOf.get(k) ?? 0) !== executionsBefore;
        flags[index] = 1 | (joins ? 16 : ran ? 0 : 2) | (right ? 0 : 4);
        if (!right && failures.length < 10) {
          failures.push(`key ${k}: wrong value ${JSON.stringify(value)}`);
        }
        if (!joins) {
          inFlight.delete(k);
          callOf.delete(k);
        }
      },
      (/** @type {unknown} */ error) => {
        latencies[index] = performance.now() - started;
        flags[index] = 1 | 8;
        if (failures.length < 10) failures.push(`key ${k}: ${error instanceof Error ? error.stack : String(error)}`);
        if (!joins) {
          inFlight.delete(k);
          callOf.delete(k);
        }
      },
    ),
  );
}

const { startAt } = /** @type {{ startAt: number }} */ (go);
await sleep(Math.max(0, startAt - epochNow()));

// How late this process's timers fire (it waits for a core on a busy machine): the part of a call's
// latency that no cache can avoid, measured in the same process over the same time.
/** @type {number[]} */
const lagAt = [];
/** @type {number[]} */
const lag = [];
const LAG_PROBE_MS = 10;
let expected = performance.now() + LAG_PROBE_MS;
const probe = setInterval(() => {
  const now = performance.now();
  lagAt.push(epochNow());
  lag.push(Math.max(0, now - expected));
  expected = now + LAG_PROBE_MS;
}, LAG_PROBE_MS);

const perMs = config.callsPerSecond / 1000;
const origin = performance.now();
let issued = 0;
// Open loop: every tick issues the calls that are due by now, whatever happened to earlier ones.
while (performance.now() - origin < config.durationMs) {
  const due = Math.floor((performance.now() - origin) * perMs);
  while (issued < due) {
    issue();
    issued++;
  }
  await sleep(2);
}
clearInterval(probe);
await Promise.all(pending);

send({
  type: "result",
  index: config.index,
  starts,
  latencies,
  flags,
  timeouts,
  failures,
  executions,
  skipped,
  lagAt,
  lag,
  reported,
  stats: load.stats(),
});
await state.close();
process.disconnect();
