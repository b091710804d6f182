import { fencesWrites } from "@mimic/core";
import { createClient, createCluster } from "redis";
import { RedisState, type RedisStateOptions } from "../src/index.js";
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

// Writes fenced by invalidations (SetOptions.startedAt): a value whose execution began before an
// invalidation of its key, by any state on any connection, is never stored. A and B are two states
// on two connections (as two processes would be); A's "slow flight" began before B's invalidation.

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
let prefixes = 0;
const opened: RedisState[] = [];
const clusterClients: Array<ReturnType<typeof createCluster>> = [];

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster(3)]);
}, 120_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close()));
  await Promise.all(clusterClients.splice(0).map((client) => client.close().catch(() => undefined)));
});

afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * How long after an invalidation (or a record's creation) an execution "began well after" it: far
 * above the error of the conservative clock conversion (a TIME round trip), even on a loaded machine.
 */
const SETTLE_MS = 1000;

/** Each state of a pair has its own connection (a cluster client of its own on the cluster). */
function pair(where: "single server" | "cluster", options: RedisStateOptions = {}): { a: RedisState; b: RedisState } {
  const prefix = `fence-${++prefixes}:`;
  const source = (): RedisStateOptions => {
    if (where === "single server") return { url: server.url };
    const client = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
    client.on("error", () => undefined);
    clusterClients.push(client);
    return { client };
  };
  const a = new RedisState({ ...source(), prefix, timeout: RELAXED_TIMEOUT_MS, ...options });
  const b = new RedisState({ ...source(), prefix, timeout: RELAXED_TIMEOUT_MS });
  opened.push(a, b);
  return { a, b };
}

type Invalidation = (b: RedisState, key: string) => Promise<void>;
/** What B does, and whether it also covers another, untagged key of the namespace. */
const invalidations: Array<[string, Invalidation, boolean]> = [
  ["delete of the key", (b, key) => b.delete(key), false],
  ["deletePrefix of its namespace", (b) => b.deletePrefix("m1:a:f|"), true],
  ["clear", (b) => b.clear(), true],
  ["invalidateTags of one of its tags", (b) => b.invalidateTags(["user:42"]), false],
];

test("RedisState declares the capability", () => {
  const { a } = pair("single server");
  expect(a.fencesWrites).toBe(true);
  expect(fencesWrites(a)).toBe(true);
});

describe.each(["single server", "cluster"] as const)("on a %s", (where) => {
  test.each(invalidations)("a flight that began before another state's %s does not land; one that began after does", async (_what, invalidate, wide) => {
    const { a, b } = pair(where);
    const key = "m1:a:f|A1:n42;";
    await a.set(key, "before", 60, { tags: ["user:42"] });
    const startedAt = Date.now();
    await sleep(20);
    await invalidate(b, key);
    // A's slow flight ends now, with a value computed from data older than the invalidation.
    await a.set(key, "stale", 60, { tags: ["user:42"], startedAt });
    expect(await a.get(key)).toBeUndefined();
    expect(await b.get(key)).toBeUndefined();
    // An untagged key of the namespace: fenced by the namespace- and state-wide invalidations only.
    await a.set(`${key}x`, "flight", 60, { startedAt });
    expect(await b.get(`${key}x`)).toEqual(wide ? undefined : { value: "flight" });
    // A flight that began well after the invalidation lands.
    await sleep(SETTLE_MS);
    const later = Date.now();
    await a.set(key, "fresh", 60, { tags: ["user:42"], startedAt: later });
    expect(await b.get(key)).toEqual({ value: "fresh" });
  });

  test("an invalidation of another key, namespace or tag does not fence the write", async () => {
    const { a, b } = pair(where);
    await a.set("m1:a:f|k", "warm", 60, { tags: ["t"] });
    await sleep(SETTLE_MS);
    const startedAt = Date.now();
    await sleep(20);
    await b.delete("m1:a:f|other");
    await b.deletePrefix("m1:b:g|");
    await b.invalidateTags(["u"]);
    await a.set("m1:a:f|k", "v", 60, { tags: ["t"], startedAt });
    expect(await b.get("m1:a:f|k")).toEqual({ value: "v" });
  });
});

test("synchronous writes are fenced the same way (through the worker thread)", async () => {
  const { a, b } = pair("single server");
  await warmSync(a);
  const startedAt = Date.now();
  await sleep(20);
  await b.delete("m1:s:f|k");
  a.setSync("m1:s:f|k", "stale", 60, { startedAt });
  expect(a.getSync("m1:s:f|k")).toBeUndefined();
  b.deleteSync("m1:s:f|j");
  await sleep(SETTLE_MS);
  a.setSync("m1:s:f|k", "fresh", 60, { startedAt: Date.now() });
  expect(await b.get("m1:s:f|k")).toEqual({ value: "fresh" });
});

test("a write without startedAt is stored as before (not fenced)", async () => {
  const { a, b } = pair("single server");
  await b.delete("m1:a:f|k");
  await a.set("m1:a:f|k", "v", 60);
  expect(await b.get("m1:a:f|k")).toEqual({ value: "v" });
});

describe("on a cluster, an invalidation landing between a write's check and its SET", () => {
  test.each(invalidations)("(%s) still leaves nothing stale: the write takes its value back", async (_what, invalidate) => {
    const { b } = pair("cluster");
    const client = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
    client.on("error", () => undefined);
    clusterClients.push(client);
    let between: (() => Promise<void>) | undefined;
    // A's own cluster client: B's invalidation runs right before A's SET reaches Redis, after A
    // checked its records.
    const racing = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "sendCommand") return Reflect.get(target, property, receiver) as unknown;
        return async (firstKey: unknown, readonly: unknown, args: unknown[], options?: object) => {
          const run = between;
          if (run !== undefined && String(args[0]).toUpperCase() === "SET") {
            between = undefined;
            await run();
          }
          return (target.sendCommand as (...parts: unknown[]) => Promise<unknown>)(firstKey, readonly, args, options);
        };
      },
    });
    const a = new RedisState({ client: racing, prefix: b.prefix, timeout: RELAXED_TIMEOUT_MS });
    opened.push(a);
    const key = "m1:a:f|A1:n42;";
    await a.set(key, "before", 60, { tags: ["user:42"] });
    await sleep(300);
    const startedAt = Date.now();
    await sleep(20);
    let invalidated = false;
    between = async () => {
      await invalidate(b, key);
      invalidated = true;
    };
    await a.set(key, "stale", 60, { tags: ["user:42"], startedAt });
    expect(invalidated).toBe(true);
    expect(await b.get(key)).toBeUndefined();
    expect(await a.get(key)).toBeUndefined();
  });
});

describe("tag records lost (evicted) and brand-new tags", () => {
  const recordOf = (prefix: string, tag: string): Buffer => Buffer.concat([Buffer.from(prefix), Buffer.from([0xfe]), Buffer.from(`{tagv}${tag}`)]);

  test("a flight that began before a tag's invalidation does not land even when the tag's record is gone", async () => {
    const { a, b } = pair("single server");
    const raw = createClient({ url: server.url });
    raw.on("error", () => undefined);
    await raw.connect();
    try {
      await a.set("m1:a:f|k", "before", 60, { tags: ["t"] });
      const startedAt = Date.now();
      await sleep(20);
      await b.invalidateTags(["t"]);
      // What eviction does to the record (tag-records.test.ts fills memory for real).
      expect(await raw.del(recordOf(a.prefix, "t"))).toBe(1);
      await a.set("m1:a:f|k", "stale", 60, { tags: ["t"], startedAt });
      expect(await b.get("m1:a:f|k")).toBeUndefined();
    } finally {
      await raw.close();
    }
  });

  test("once a state has seen a tagged write, a fenced write with a brand-new tag is stored", async () => {
    const { a, b } = pair("single server");
    await a.set("m1:a:f|first", 1, 60, { tags: ["first"] });
    await sleep(SETTLE_MS);
    for (const id of [1, 2, 3]) {
      const startedAt = Date.now();
      await a.set(`m1:a:f|${id}`, id, 60, { tags: ["users", `user:${id}`], startedAt });
      expect(await b.get(`m1:a:f|${id}`)).toEqual({ value: id });
    }
  });
});
