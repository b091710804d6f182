import { createClient, createCluster } from "redis";
import { RedisState } from "../src/index.js";
import { startRedisCluster, type RedisClusterHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

let cluster: RedisClusterHandle;
let client: ReturnType<typeof createCluster>;
/** One plain client per master, to look at each node's own keys. */
let nodes: Array<ReturnType<typeof createClient>>;
let anchor: RedisState;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
  client.on("error", () => undefined);
  await client.connect();
  nodes = await Promise.all(cluster.urls.map(async (url) => createClient({ url }).connect()));
  anchor = new RedisState({ client, prefix: "anchor:", timeout: RELAXED_TIMEOUT_MS });
  await warmSync(anchor);
}, 60_000);

afterAll(async () => {
  await anchor?.close();
  for (const node of nodes ?? []) node.destroy();
  await client?.close();
  await cluster?.stop();
});

/**
 * How many keys matching `pattern` each master holds, the state's invalidation records aside (a
 * `clear()` stamps one, which must outlive the flights it fences).
 */
async function perMaster(pattern: string): Promise<number[]> {
  return Promise.all(nodes.map(async (node) => (await node.keys(pattern)).filter((key) => !key.includes("{tagv}")).length));
}

test.each(["clear", "clearSync"] as const)("%s removes this prefix's keys on every master, and nothing else", async (method) => {
  const state = new RedisState({ client, prefix: `cluster-${method}:`, timeout: RELAXED_TIMEOUT_MS });
  const other = new RedisState({ client, prefix: `cluster-${method}-other:`, timeout: RELAXED_TIMEOUT_MS });
  try {
    for (let i = 0; i < 60; i++) {
      await state.set(`k${i}`, i, null);
      await other.set(`k${i}`, i, null);
    }
    const before = await perMaster(`cluster-${method}:*`);
    expect(before.every((count) => count > 0)).toBe(true);
    expect(before.reduce((a, b) => a + b)).toBe(60);
    if (method === "clear") await state.clear();
    else state.clearSync();
    expect(await perMaster(`cluster-${method}:*`)).toEqual([0, 0, 0]);
    expect((await perMaster(`cluster-${method}-other:*`)).reduce((a, b) => a + b)).toBe(60);
  } finally {
    await Promise.all([state.close(), other.close()]);
  }
});

test("each key lives on exactly one master, the one its slot maps to (sync and async writes, byte keys too)", async () => {
  const state = new RedisState({ client, prefix: "routing:", timeout: RELAXED_TIMEOUT_MS });
  try {
    const keys = ["a", "b", "c", "user|{42}", "lone\udc00surrogate"];
    for (const [index, key] of keys.entries()) {
      if (index % 2 === 0) await state.set(key, key, null);
      else state.setSync(key, key, null);
    }
    for (const key of keys) {
      expect(await state.get(key)).toEqual({ value: key });
      expect(state.getSync(key)).toEqual({ value: key });
    }
    const counts = await perMaster("routing:*");
    expect(counts.reduce((a, b) => a + b)).toBe(keys.length);
    // A node that does not own a key's slot answers MOVED: exactly one node serves each key.
    for (const key of ["a", "b", "c", "user|{42}"]) {
      const served = await Promise.all(nodes.map((node) => node.get(`routing:${key}`).then(() => 1, () => 0)));
      expect(served.reduce((a: number, b: number) => a + b, 0)).toBe(1);
    }
  } finally {
    await state.close();
  }
});

test("a cluster passed in stays open after close()", async () => {
  const state = new RedisState({ client, prefix: "borrowed-cluster:", timeout: RELAXED_TIMEOUT_MS });
  await state.set("k", 1, null);
  await state.close();
  expect(client.isOpen).toBe(true);
  expect(await client.set("still-open", "yes")).toBe("OK");
});
