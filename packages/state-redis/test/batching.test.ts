import { Mime } from "@mimic/core";
import { createCluster } from "redis";
import { RedisState, RedisUnavailableError } from "../src/index.js";
import { keySlot } from "../src/key-slot.js";
import { commandCalls, connectRawClient, freePort, startRedisCluster, startRedisServer, type RawClient, type RedisClusterHandle, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS } from "./helpers.js";

// Auto-batching (issue 19): the reads of one tick go out as one MGET per cluster slot, the fenced
// writes of one tick as one script (on one server), concurrent fenced writes share one clock
// measurement, and a batch of a bulk loader costs one MGET and one script. Commands are counted by the servers (INFO commandstats), not assumed; the
// counts include the commands scripts run (each fenced-write script reads TIME and the records).

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
let raw: RawClient;
let clusterClient: ReturnType<typeof createCluster>;
const nodes: RawClient[] = [];
const opened: RedisState[] = [];
let prefixes = 0;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster(3)]);
  raw = await connectRawClient(server.url);
  for (const url of cluster.urls) nodes.push(await connectRawClient(url));
  clusterClient = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
  clusterClient.on("error", () => undefined);
  await clusterClient.connect();
}, 60_000);

afterAll(async () => {
  await Promise.all(opened.map((state) => state.close()));
  raw?.destroy();
  nodes.forEach((node) => node.destroy());
  await clusterClient?.close();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

function open(where: "server" | "cluster" = "server"): RedisState {
  const prefix = `batching-${++prefixes}:`;
  const state =
    where === "server"
      ? new RedisState({ url: server.url, prefix, timeout: RELAXED_TIMEOUT_MS })
      : new RedisState({ client: clusterClient, prefix, timeout: RELAXED_TIMEOUT_MS });
  opened.push(state);
  return state;
}

/** Polls `read` until it answers `{ value: expected }` (the local layer hears of changes asynchronously). */
async function eventuallyValue(read: () => Promise<unknown>, expected: unknown): Promise<boolean> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const entry = (await read()) as { value: unknown } | undefined;
    if (entry !== undefined && entry.value === expected) return true;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(entry)} after 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What `action` costs in commands on `clients`, per command. */
async function commandsOf(clients: RawClient[], action: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await commandCalls(clients);
  await action();
  const after = await commandCalls(clients);
  const spent: Record<string, number> = {};
  for (const [command, count] of after) {
    const delta = count - (before.get(command) ?? 0);
    if (delta > 0 && command !== "info") spent[command] = delta;
  }
  return spent;
}

describe("reads of one tick", () => {
  test("100 concurrent gets (hits, misses and repeated keys) are one GET (the first, at once) and one MGET, each answered with its own entry", async () => {
    const state = open();
    for (let i = 0; i < 100; i += 2) await state.set(`f|${i}`, { id: i }, 60);
    await state.get("f|warm"); // connected
    let answers: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      const keys = [...Array.from({ length: 100 }, (_, i) => `f|${i}`), "f|0", "f|1", "f|2"];
      answers = await Promise.all(keys.map((key) => state.get(key)));
    });
    expect(spent).toEqual({ get: 1, mget: 1 }); // the first read at once, the others of its tick together
    expect(answers.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? { value: { id: i } } : undefined)));
    expect(answers.slice(100)).toEqual([{ value: { id: 0 } }, undefined, { value: { id: 2 } }]);
  });

  test("keys stored as bytes (lone surrogates), long (shortened) keys and plain ones share one MGET", async () => {
    const state = open();
    const keys = ["f|\uD800", "f|\uDC00x", `f|${"y".repeat(3000)}`, `f|${"y".repeat(3000)}z`, "f|plain", "g\uD83D|x"];
    await Promise.all(keys.map((key, i) => state.set(key, i, 60)));
    let answers: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      answers = await Promise.all([...keys, "f|missing"].map((key) => state.get(key)));
    });
    expect(spent).toEqual({ get: 1, mget: 1 });
    expect(answers).toEqual([...keys.map((_, i) => ({ value: i })), undefined]);
  });

  test("a lone read is one GET, and a key read many times in one tick is read once", async () => {
    const state = open();
    await state.set("f|one", 1, 60);
    expect(await commandsOf([raw], () => state.get("f|one"))).toEqual({ get: 1 });
    expect(await commandsOf([raw], () => Promise.all([1, 2, 3, 4, 5].map(() => state.get("f|one"))))).toEqual({ get: 1 });
  });

  test("concurrent memoized calls of one tick read with one MGET; the misses then run and are written", async () => {
    const state = open();
    let runs = 0;
    const getUser = Mime({ state, name: "users", ttl: 60 })(async (id: number) => {
      runs++;
      return { id };
    });
    await Promise.all(Array.from({ length: 50 }, (_, i) => getUser(i * 2)));
    runs = 0;
    let results: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      results = await Promise.all(Array.from({ length: 100 }, (_, i) => getUser(i)));
    });
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => ({ id: i })));
    expect(runs).toBe(50);
    expect(spent["mget"]).toBe(3); // the reads after the first, and each of the two write scripts reading its records
    expect(spent["evalsha"]).toBe(2); // the 50 writes of the misses: the first at once, the other 49 in one script
    expect(spent["time"]).toBe(2); // in the scripts: the clock was measured by the first writes
  });

  test("a read asked after a write of the same tick sees that write", async () => {
    const state = open();
    await state.set("f|k", "old", 60);
    const write = state.set("f|k", "new", 60);
    const read = state.get("f|k");
    await write;
    await expect(read).resolves.toEqual({ value: "new" });
  });

  test("a read asked after a write of the same tick does not join a read sent before that write", async () => {
    const state = open();
    await state.set("f|k", "old", 60);
    // Connected, the server's clock measured (a fenced write's first step is then its script), and
    // the window of that warm-up is over.
    await state.set("f|warm", 0, 60, { startedAt: performance.timeOrigin + performance.now() });
    for (const write of [
      () => state.set("f|k", "plain", 60),
      () => state.set("f|k", "fenced", 60, { startedAt: performance.timeOrigin + performance.now() }),
    ]) {
      const before = state.get("f|k"); // leads its window: sent at once
      const written = write();
      const after = state.get("f|k");
      await written;
      const [seenBefore, seenAfter] = await Promise.all([before, after]);
      expect(seenBefore).toBeDefined();
      expect(seenAfter).toEqual(await state.get("f|k")); // the value just written
    }
    await expect(state.get("f|k")).resolves.toEqual({ value: "fenced" });
  });

  test("tagged entries read in one tick check their tag records with one more MGET", async () => {
    const state = open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => state.set(`f|${i}`, i, 60, { tags: [`t${i % 3}`] })));
    let answers: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      answers = await Promise.all(Array.from({ length: 20 }, (_, i) => state.get(`f|${i}`)));
    });
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => ({ value: i })));
    expect(spent).toEqual({ get: 1, mget: 2 }); // the entries (one at once, one MGET), then all their records
    await state.invalidateTags(["t1"]);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => state.get(`f|${i}`)));
    expect(after).toEqual(Array.from({ length: 20 }, (_, i) => (i % 3 === 1 ? undefined : { value: i })));
  });

  test("with the local layer, the reads of one tick that miss it are one script (GET and PTTL of each key), and fill it", async () => {
    const writer = open();
    for (let i = 0; i < 40; i++) await writer.set(`f|${i}`, { id: i }, i % 2 === 0 ? 60 : null);
    // The reader's tracking starts after those writes: no report of them can arrive during the reads
    // (one that did would rightly keep its read from filling the layer).
    const state = new RedisState({ url: server.url, prefix: writer.prefix, timeout: RELAXED_TIMEOUT_MS, local: true });
    opened.push(state);
    await state.ready();
    let answers: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      answers = await Promise.all(Array.from({ length: 50 }, (_, i) => state.get(`f|${i}`)));
    });
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => (i < 40 ? { value: { id: i } } : undefined)));
    expect((spent["eval"] ?? 0) + (spent["evalsha"] ?? 0)).toBe(1);
    expect(spent["get"]).toBe(50); // the first read's GET and PTTL, the other 49 in the script
    expect(spent["pttl"]).toBe(50);
    expect(state.localStats()?.entries).toBe(40);
    // Held now: no round trip at all; and a change made elsewhere still reaches this process.
    expect(await commandsOf([raw], () => Promise.all(Array.from({ length: 40 }, (_, i) => state.get(`f|${i}`))))).toEqual({});
    await writer.set("f|3", "changed", 60);
    await expect(eventuallyValue(() => state.get("f|3"), "changed")).resolves.toBe(true);
  });

  test("when the server is unreachable, every read of the batch fails with a typed error and memoized calls run the function", async () => {
    const state = new RedisState({ url: `redis://127.0.0.1:${await freePort()}`, prefix: "down:", timeout: 300 });
    opened.push(state);
    const reads = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => state.get(`f|${i}`)));
    for (const read of reads) {
      expect(read.status).toBe("rejected");
      expect((read as PromiseRejectedResult).reason).toBeInstanceOf(RedisUnavailableError);
    }
    const errors: unknown[] = [];
    const fn = Mime({ state, name: "down", ttl: 60, onError: (error) => void errors.push(error) })(async (i: number) => i * 10);
    await expect(Promise.all([1, 2, 3].map((i) => fn(i)))).resolves.toEqual([10, 20, 30]);
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe("writes", () => {
  test("concurrent fenced writes on a new state share one clock measurement (3 TIMEs); all but the first go out as one script", async () => {
    const state = open();
    const spent = await commandsOf([raw], () =>
      Promise.all(Array.from({ length: 50 }, (_, i) => state.set(`f|${i}`, i, 60, { startedAt: performance.timeOrigin + performance.now() }))),
    );
    expect(spent["eval"]).toBe(2); // the first write at once, the others in one script; a script's first use sends its source
    expect(spent["evalsha"]).toBeUndefined();
    expect(spent["set"]).toBe(50);
    expect(spent["time"]).toBe(3 + 2); // one measurement of three samples, and one in each script
    expect(await state.getMany(Array.from({ length: 50 }, (_, i) => `f|${i}`))).toEqual(Array.from({ length: 50 }, (_, i) => ({ value: i })));
  });

  test("one script of many fenced writes refuses exactly the invalidated ones, each with its own expiry", async () => {
    const state = open();
    await state.invalidateTags(["warm", "u"]); // the tag epoch and u's record exist (see the README's deploy note)
    await state.set("f|warm", 0, 60, { startedAt: performance.timeOrigin + performance.now() }); // clock measured
    const before = performance.timeOrigin + performance.now();
    // 50 ms on each side of the invalidations: more than the error of the measured clock offset (at
    // most one TIME round trip), so `before` is surely before them and `after` surely after.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await state.delete("f|3");
    await state.invalidateTags(["t"]);
    await state.deletePrefix("g|");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = performance.timeOrigin + performance.now();
    const spent = await commandsOf([raw], () =>
      state.setMany([
        { key: "f|1", value: 1, ttl: 0.3, options: { startedAt: before } },
        { key: "f|3", value: 3, ttl: 60, options: { startedAt: before } },
        { key: "f|4", value: 4, ttl: 60, options: { startedAt: before, tags: ["t"] } },
        { key: "f|5", value: 5, ttl: 60, options: { startedAt: before, tags: ["u"] } },
        { key: "g|6", value: 6, ttl: 60, options: { startedAt: before } },
        { key: "g|7", value: 7, ttl: 60, options: { startedAt: after } },
        { key: "f|8", value: 8, ttl: null, options: { startedAt: after, tags: ["t"] } },
      ]),
    );
    expect((spent["eval"] ?? 0) + (spent["evalsha"] ?? 0)).toBe(2); // the first write at once, the other six in one script
    const keys = ["f|1", "f|3", "f|4", "f|5", "g|6", "g|7", "f|8"];
    expect(await state.getMany(keys)).toEqual([{ value: 1 }, undefined, undefined, { value: 5 }, undefined, { value: 7 }, { value: 8 }]);
    expect(Number(await raw.pTTL(`${state.prefix}f|5`))).toBeGreaterThan(50_000);
    expect(Number(await raw.pTTL(`${state.prefix}f|8`))).toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await state.getMany(keys)).toEqual([undefined, undefined, undefined, { value: 5 }, undefined, { value: 7 }, { value: 8 }]);
  });

  test("an invalidation asked in the same tick as queued fenced writes wins over those that began before it", async () => {
    const state = open();
    await state.set("f|warm", 0, 60, { startedAt: performance.timeOrigin + performance.now() }); // clock measured
    const startedAt = performance.timeOrigin + performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The first write leads its window and goes at once; the others are queued behind it when the
    // deletes are asked, in the same tick.
    const writes = ["f|lead", "f|a", "f|b", "f|c"].map((key) => state.set(key, key, 60, { startedAt }));
    const deletes = ["f|a", "f|c"].map((key) => state.delete(key));
    await Promise.all([...writes, ...deletes]);
    expect(await state.getMany(["f|lead", "f|a", "f|b", "f|c"])).toEqual([{ value: "f|lead" }, undefined, { value: "f|b" }, undefined]);
  });

  test("writes of one tick are split into scripts of at most 100 writes and 1 MiB of values, each stored", async () => {
    const state = open();
    await state.set("f|warm", 0, 60, { startedAt: performance.timeOrigin + performance.now() }); // clock measured
    const big = "x".repeat(400 * 1024);
    const startedAt = performance.timeOrigin + performance.now();
    const entries = [
      ...Array.from({ length: 5 }, (_, i) => ({ key: `f|big${i}`, value: big + i, ttl: 60, options: { startedAt } })),
      ...Array.from({ length: 230 }, (_, i) => ({ key: `f|small${i}`, value: i, ttl: 60, options: { startedAt } })),
    ];
    const spent = await commandsOf([raw], () => state.setMany(entries));
    // The first (big) write at once; then [big 1, big 2] (a third would pass 1 MiB), [big 3, big 4 and
    // 98 small ones] (100 writes), [the next 100 small ones], [the last 32].
    expect(spent["set"]).toBe(235);
    expect((spent["eval"] ?? 0) + (spent["evalsha"] ?? 0)).toBe(1 + 4);
    const read = await state.getMany(entries.map(({ key }) => key));
    expect(read.map((entry) => (entry as { value: unknown }).value)).toEqual(entries.map(({ value }) => value));
  });

  test("a value that cannot be stored fails setMany after the others are written", async () => {
    const state = open();
    const startedAt = performance.timeOrigin + performance.now();
    await expect(
      state.setMany([
        { key: "f|a", value: "a", ttl: 60, options: { startedAt } },
        { key: "f|fn", value: () => 1, ttl: 60, options: { startedAt } },
        { key: "f|b", value: "b", ttl: 60, options: { startedAt } },
      ]),
    ).rejects.toMatchObject({ code: "MIMIC_UNSERIALIZABLE_VALUE" });
    expect(await state.getMany(["f|a", "f|fn", "f|b"])).toEqual([{ value: "a" }, undefined, { value: "b" }]);
  });

  test("a Mime.batch of 100 items, half cached: one GET and one MGET, then one write and one script for the other missing items", async () => {
    const state = open();
    const loaded: number[][] = [];
    const loadUsers = Mime.batch({ state, name: "bulk", ttl: 60 })(async (ids: readonly number[]) => {
      loaded.push([...ids]);
      return ids.map((id) => ({ id }));
    });
    await loadUsers(Array.from({ length: 50 }, (_, i) => i * 2));
    loaded.length = 0;
    let results: unknown[] = [];
    const spent = await commandsOf([raw], async () => {
      results = await loadUsers(Array.from({ length: 100 }, (_, i) => i));
    });
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => ({ id: i })));
    expect(loaded).toEqual([Array.from({ length: 50 }, (_, i) => i * 2 + 1)]);
    expect(spent["mget"]).toBe(3); // the reads after the first, and each of the two write scripts reading its records
    expect(spent["evalsha"]).toBe(2); // the first write at once, the other 49 in one script
    expect(spent["set"]).toBe(50);
    expect(spent["time"]).toBe(2); // in the scripts only: the clock was measured by the first batch
    // Another state on the same prefix (as another process would have) finds every item.
    const other = new RedisState({ url: server.url, prefix: state.prefix, timeout: RELAXED_TIMEOUT_MS });
    opened.push(other);
    const reader = Mime.batch({ state: other, name: "bulk", ttl: 60 })(async (ids: readonly number[]) => ids.map(() => "recomputed"));
    await expect(reader([3, 4, 99])).resolves.toEqual([{ id: 3 }, { id: 4 }, { id: 99 }]);
  });
});

describe("on a cluster", () => {
  test("keySlot agrees with the server's CLUSTER KEYSLOT (hash tags, bytes, empty tags)", async () => {
    const keys = ["", "a", "user:1", "{user}:1", "x{user}y", "{}x", "{{a}}", "a{b", "é|π", "mimic:f|[1,\"two\"]"];
    for (const key of keys) {
      expect(keySlot(key)).toBe(Number(await nodes[0]!.sendCommand(["CLUSTER", "KEYSLOT", key])));
    }
    const bytes = Buffer.from([0x6d, 0xff, 0xfe, 0x00, 0x7b, 0x41, 0x7d]);
    expect(keySlot(bytes)).toBe(Number(await nodes[0]!.sendCommand(["CLUSTER", "KEYSLOT", bytes])));
  });

  test("reads of one tick after the first are one MGET per slot (one GET for a lone key), each answered right", async () => {
    const state = open("cluster");
    // Keys in a handful of slots (hash tags), and some alone in theirs.
    const keys = [
      ...Array.from({ length: 60 }, (_, i) => `{g${i % 4}}|${i}`),
      ...Array.from({ length: 10 }, (_, i) => `lone|${i}`),
    ];
    await Promise.all(keys.filter((_, i) => i % 2 === 0).map((key) => state.set(key, key, 60)));
    let answers: unknown[] = [];
    const spent = await commandsOf(nodes, async () => {
      answers = await Promise.all(keys.map((key) => state.get(key)));
    });
    expect(answers).toEqual(keys.map((key, i) => (i % 2 === 0 ? { value: key } : undefined)));
    // The first read goes out at once (a GET); the others of its tick, per slot.
    const perSlot = new Map<number, number>();
    for (const key of keys.slice(1)) {
      const slot = keySlot(state.prefix + key);
      perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
    }
    const shared = [...perSlot.values()].filter((count) => count > 1).length;
    const alone = [...perSlot.values()].filter((count) => count === 1).length;
    expect(spent).toEqual({ ...(shared > 0 ? { mget: shared } : {}), get: 1 + alone });
    expect(shared).toBeGreaterThanOrEqual(4);
  });

  test("a Mime.batch spread over the slots stores every item where another process finds it", async () => {
    const state = open("cluster");
    const loadUsers = Mime.batch({ state, name: "bulk", ttl: 60 })(async (ids: readonly number[]) => ids.map((id) => ({ id })));
    const ids = Array.from({ length: 100 }, (_, i) => i);
    await expect(loadUsers(ids)).resolves.toEqual(ids.map((id) => ({ id })));
    const other = new RedisState({ client: clusterClient, prefix: state.prefix, timeout: RELAXED_TIMEOUT_MS });
    opened.push(other);
    const reader = Mime.batch({ state: other, name: "bulk", ttl: 60 })(async (items: readonly number[]) => items.map(() => "recomputed"));
    await expect(reader(ids)).resolves.toEqual(ids.map((id) => ({ id })));
  });
});
