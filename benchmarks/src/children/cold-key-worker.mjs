// One process of scenario 5b (100 concurrent misses of one cold key from 4 processes). Plain .mjs
// so the parent can fork it with plain `node`; it imports the built dists through the workspace
// links in benchmarks/node_modules, as a user would.
//
// argv[2]: JSON { states: { tempfile?: { basePath }, redis?: { url, prefix } }, concurrency,
//                 functionMs, executionsFile }
// IPC protocol: the child sends { type: "ready" } once its states answer; the parent then sends
// { type: "go", row, key } to every child at once (the start barrier); the child fires `concurrency`
// calls of `key` through the row's wrapper, checks every result and sends
// { type: "done", row, key, executions, errors }. { type: "exit" } closes the states and exits.
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Mime } from "@mimic/core";

const config = JSON.parse(process.argv[2]);
const errors = [];
const onError = (error) => errors.push(`${error.code ?? error.name}: ${error.message}`);
const expected = (key) => `value of ${key}`;

const states = {};
if (config.states.tempfile !== undefined) {
  const { TempFileState } = await import("@mimic/state-tempfile");
  states.tempfile = new TempFileState({ basePath: config.states.tempfile.basePath, static: true });
}
if (config.states.redis !== undefined) {
  const { RedisState } = await import("@mimic/state-redis");
  states.redis = new RedisState({ url: config.states.redis.url, prefix: config.states.redis.prefix, timeout: 2000 });
}

// Executions are counted twice: in this process, and as one line per execution appended to a file
// all processes share (O_APPEND; a short line is written whole), which the parent counts per key.
let executions = 0;
async function load(key) {
  executions++;
  appendFileSync(config.executionsFile, `${process.pid} ${key}\n`);
  await sleep(config.functionMs);
  return expected(key);
}

const wrappers = {};
for (const [stateName, state] of Object.entries(states)) {
  for (const locked of [true, false]) {
    const row = `${stateName}:${locked ? "lock" : "nolock"}`;
    wrappers[row] = Mime({ ttl: 60, state, name: `s5b.${row}`, onError, ...(locked ? { lock: true } : {}) })(load);
  }
}

// Connect and open before the race: the rounds are about the lease, not about start-up.
for (const state of Object.values(states)) await state.get("warm-up");

process.on("message", async (message) => {
  if (message.type === "exit") {
    for (const state of Object.values(states)) await state.close?.();
    process.disconnect();
    process.exit(0);
  }
  if (message.type !== "go") return;
  const wrapper = wrappers[message.row];
  const before = executions;
  const errorsBefore = errors.length;
  const failures = [];
  if (wrapper === undefined) failures.push(`unknown row ${message.row}`);
  else {
    const calls = Array.from({ length: config.concurrency }, () => wrapper(message.key));
    const results = await Promise.allSettled(calls);
    for (const result of results) {
      if (result.status === "rejected") failures.push(`rejected: ${result.reason?.message ?? String(result.reason)}`);
      else if (result.value !== expected(message.key)) failures.push(`wrong result ${JSON.stringify(result.value)}`);
    }
  }
  process.send({
    type: "done",
    row: message.row,
    key: message.key,
    executions: executions - before,
    failures: failures.slice(0, 3),
    errors: errors.slice(errorsBefore, errorsBefore + 3),
  });
});
process.send({ type: "ready" });
