import { RedisState } from "../src/index.js";
import { connectRawClient, startRedisServer, type RawClient, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS } from "./helpers.js";

// Tags that eviction or a dropped connection cannot defeat, on real redis-servers: a tag's record
// that Redis evicts makes its entries misses, never immortal; an invalidation that loses its
// connection half-way is safe to retry.

const TAGS = 40;
const ENTRIES = 200;
const tagOf = (entry: number): string => `t:${entry % TAGS}`;
const keyOf = (entry: number): string => `m1:a:f|${entry}`;
const recordOf = (prefix: string, tag: string): Buffer => Buffer.concat([Buffer.from(prefix), Buffer.from([0xfe]), Buffer.from(`{tagv}${tag}`)]);

describe.each(["allkeys-lru", "volatile-lru"])("under maxmemory-policy %s with memory pressure", (policy) => {
  let server: RedisServerHandle;
  let raw: RawClient;

  beforeAll(async () => {
    server = await startRedisServer({ args: ["--maxmemory", "4mb", "--maxmemory-policy", policy] });
    raw = await connectRawClient(server.url);
  }, 30_000);

  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  test("an evicted tag record makes its entries misses, and after invalidateTags no entry of those tags is ever served", async () => {
    const prefix = `ev-${policy}:`;
    const state = new RedisState({ url: server.url, prefix, timeout: RELAXED_TIMEOUT_MS });
    try {
      for (let entry = 0; entry < ENTRIES; entry++) await state.set(keyOf(entry), `v${entry}`, 600, { tags: [tagOf(entry)] });
      for (let entry = 0; entry < ENTRIES; entry++) expect(await state.get(keyOf(entry))).toEqual({ value: `v${entry}` });

      // Fill memory (junk with a ttl, so both policies may evict it) until Redis has evicted at least
      // one tag record while some entry of that tag survives.
      const junk = "x".repeat(20_000);
      let orphans: number[] = [];
      for (let batch = 0; orphans.length === 0; batch++) {
        if (batch >= 500) throw new Error("memory pressure never evicted a tag record while keeping one of its entries");
        await Promise.all(Array.from({ length: 20 }, (_, i) => raw.set(`junk:${batch}:${i}`, junk, { EX: 600 })));
        const missingRecords = new Set<string>();
        for (let tag = 0; tag < TAGS; tag++) if ((await raw.exists(recordOf(prefix, `t:${tag}`))) === 0) missingRecords.add(`t:${tag}`);
        orphans = [];
        for (let entry = 0; entry < ENTRIES; entry++) {
          if (missingRecords.has(tagOf(entry)) && (await raw.exists(`${prefix}${keyOf(entry)}`)) === 1) orphans.push(entry);
        }
      }
      const info = String(await raw.sendCommand(["INFO", "stats"]));
      expect(Number(/evicted_keys:(\d+)/.exec(info)![1])).toBeGreaterThan(0);
      // Stored in Redis, but its tag's record is gone: a miss.
      for (const entry of orphans) expect(await state.get(keyOf(entry))).toBeUndefined();

      // Invalidate every tag: whatever was evicted, no entry written before is served again.
      const survivors: number[] = [];
      for (let entry = 0; entry < ENTRIES; entry++) if ((await raw.exists(`${prefix}${keyOf(entry)}`)) === 1) survivors.push(entry);
      await state.invalidateTags(Array.from({ length: TAGS }, (_, tag) => `t:${tag}`));
      for (let entry = 0; entry < ENTRIES; entry++) expect(await state.get(keyOf(entry))).toBeUndefined();
      // Another process (another state, its own connection) agrees.
      const other = new RedisState({ url: server.url, prefix, timeout: RELAXED_TIMEOUT_MS });
      try {
        for (const entry of survivors) expect(await other.get(keyOf(entry))).toBeUndefined();
      } finally {
        await other.close();
      }
      // Entries written after the invalidation are hits again.
      await state.set(keyOf(0), "fresh", 600, { tags: [tagOf(0)] });
      expect(await state.get(keyOf(0))).toEqual({ value: "fresh" });
    } finally {
      await state.close();
    }
  }, 120_000);
});

describe("a connection dropped in the middle of an invalidation", () => {
  let server: RedisServerHandle;
  let admin: RawClient;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = await connectRawClient(server.url);
  }, 30_000);

  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  test("the call rejects, a retry resolves, and nothing invalidated stays", async () => {
    const prefix = "drop:";
    const client = await connectRawClient(server.url);
    const clientId = Number(await client.sendCommand(["CLIENT", "ID"]));
    let armed = false;
    // The state's own client, whose connection is killed (for real, from another connection) just
    // after the server applied the first command of an invalidation, so its reply is lost.
    const dropping = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== "sendCommand") return Reflect.get(target, property, receiver) as unknown;
        return async (args: string[], options?: object) => {
          const reply = await target.sendCommand(args, options);
          const verb = String(args[0]).toUpperCase();
          if (armed && (verb === "SPOP" || verb === "EVALSHA" || verb === "EVAL")) {
            armed = false;
            await admin.sendCommand(["CLIENT", "KILL", "ID", String(clientId)]);
            throw new Error("connection lost before the reply");
          }
          return reply;
        };
      },
    });
    const state = new RedisState({ client: dropping, prefix, timeout: RELAXED_TIMEOUT_MS });
    try {
      for (let entry = 0; entry < ENTRIES; entry++) await state.set(keyOf(entry), entry, 600, { tags: [tagOf(entry), "all"] });
      armed = true;
      await expect(state.invalidateTags(["all"])).rejects.toThrow();
      // node-redis reconnects the client by itself; retry until the invalidation goes through.
      for (let attempt = 1; ; attempt++) {
        try {
          await state.invalidateTags(["all"]);
          break;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const reader = new RedisState({ url: server.url, prefix, timeout: RELAXED_TIMEOUT_MS });
      try {
        for (let entry = 0; entry < ENTRIES; entry++) expect(await reader.get(keyOf(entry))).toBeUndefined();
      } finally {
        await reader.close();
      }
    } finally {
      await state.close();
      await client.close().catch(() => undefined);
    }
  }, 60_000);
});
