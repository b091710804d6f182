// @ts-check
// A process that loads ids with a bulk loader memoized per item by Mime.batch on a shared state.
// argv[2] is { kind: "redis" | "redis-cluster" | "tempfile", url?, rootNodes?, basePath?, prefix, name, ids, concurrent }
// as JSON: it loads `ids` (as one batch, or with `concurrent` set as that many batches of one tick
// plus `one` calls) and reports { type: "done", results, loaded } where loaded are the ids that
// reached the loader in this process, in the order it saw them.
import { Mime } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";
import { createCluster } from "redis";

/** @type {{ kind: string, url?: string, rootNodes?: string[], basePath?: string, prefix: string, name: string, ids: number[], concurrent?: number }} */
const config = JSON.parse(process.argv[2] ?? "{}");
/** @type {{ close(): Promise<unknown> } | undefined} */
let cluster;
async function stateOf() {
  if (config.kind === "redis") return new RedisState({ url: config.url ?? "", prefix: config.prefix, timeout: 5000 });
  if (config.kind === "redis-cluster") {
    const client = createCluster({ rootNodes: (config.rootNodes ?? []).map((url) => ({ url })) });
    client.on("error", () => undefined);
    await client.connect();
    cluster = client;
    return new RedisState({ client, prefix: config.prefix, timeout: 5000 });
  }
  return new TempFileState({ basePath: config.basePath ?? "", static: true });
}
const state = await stateOf();
/** @type {number[]} */
const loaded = [];
const loadUsers = Mime.batch({ state, name: config.name, ttl: 60, tags: (id) => [`user:${id}`], maxBatchSize: 40 })(
  /** @param {readonly number[]} ids */
  async (ids) => {
    loaded.push(...ids);
    await new Promise((resolve) => setTimeout(resolve, 10));
    return ids.map((id) => ({ id, by: process.pid }));
  },
);
let results;
if (config.concurrent === undefined) results = await loadUsers(config.ids);
else {
  // Overlapping batches and single items of one tick: each id reaches the loader once.
  const parts = Array.from({ length: config.concurrent }, () => loadUsers(config.ids));
  const ones = config.ids.map((id) => loadUsers.one(id));
  const [first, ...rest] = await Promise.all([...parts, Promise.all(ones)]);
  for (const other of rest) if (JSON.stringify(other) !== JSON.stringify(first)) throw new Error("concurrent batches disagree");
  results = first;
}
process.send?.({ type: "done", results, loaded, stats: loadUsers.stats() });
await state.close();
await cluster?.close();
