// @ts-check
// A process that hits one hot key in a loop across several expiries, with refreshAhead and lock on a
// shared state. argv[2] is { kind: "redis" | "tempfile", url?, basePath?, name, ttl, beta, functionMs,
// durationMs, lock } as JSON. It waits for { type: "go" }, then reports { type: "done", calls, hits,
// executions, starts, values } where executions are the runs of the function in this process and
// starts the times (ms since the epoch) they began.
import { Mime } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";

/** @type {{ kind: string, url?: string, basePath?: string, name: string, ttl: number, beta: number, functionMs: number, durationMs: number, lock: boolean }} */
const config = JSON.parse(process.argv[2] ?? "{}");
const state =
  config.kind === "redis"
    ? new RedisState({ url: config.url ?? "", prefix: "reliability:refresh-ahead:", timeout: 2000 })
    : new TempFileState({ basePath: config.basePath ?? "", static: true });
let executions = 0;
/** @type {number[]} */
const starts = [];
const hot = Mime({ state, name: config.name, ttl: config.ttl, refreshAhead: config.beta, ...(config.lock ? { lock: { lease: 5, timeout: 10 } } : {}) })(
  async () => {
    executions++;
    starts.push(Date.now());
    await new Promise((resolve) => setTimeout(resolve, config.functionMs));
    return { by: process.pid, at: Date.now() };
  },
);

process.send?.({ type: "ready" });
await new Promise((resolve) => process.once("message", resolve));
const end = Date.now() + config.durationMs;
let calls = 0;
const values = new Set();
while (Date.now() < end) {
  const value = await hot();
  values.add(`${value.by}@${value.at}`);
  calls++;
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await new Promise((resolve) => setTimeout(resolve, 100)); // let a refresh under way finish
process.send?.({ type: "done", calls, hits: hot.stats().hits, coalesced: hot.stats().coalesced, executions, starts, values: values.size });
await state.close();
