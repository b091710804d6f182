import { InvalidOptionError, MemoryState, Mime, type CacheEntry } from "@mimic/core";
import { isLocallyCached } from "@mimic/core/state-kit";
import { createCluster } from "redis";
import { RedisState, type RedisStateOptions } from "../src/index.js";
import { connectRawClient, startRedisCluster, startRedisServer, type RawClient, type RedisClusterHandle, type RedisServerHandle } from "./harness/index.js";
import { eventually, RELAXED_TIMEOUT_MS } from "./helpers.js";

// The local layer against a real redis-server (and a real 3-master cluster): what it serves, what
// drops it, and what bounds it. Cross-process coherence is in local-processes.test.ts.

let server: RedisServerHandle;
let raw: RawClient;
let prefixes = 0;
const opened: RedisState[] = [];
const timeout = RELAXED_TIMEOUT_MS;

function open(options: RedisStateOptions): RedisState {
  const state = new RedisState({ url: server.url, timeout, ...options });
  opened.push(state);
  return state;
}

/** A reader with the layer on and a writer without it, on one fresh prefix. */
function pair(local: RedisStateOptions["local"] = true): { reader: RedisState; writer: RedisState; prefix: string } {
  const prefix = `local-${++prefixes}:`;
  return { reader: open({ prefix, local }), writer: open({ prefix }), prefix };
}

/**
 * Reads `key` through `state` until the local layer holds it: the first reads may happen before
 * tracking is established (they do not fill), after which one read fills it.
 */
async function fill(state: RedisState, key: string): Promise<CacheEntry> {
  await eventually(async () => {
    await state.get(key);
    return state.getLocal!(key) !== undefined;
  }, 10_000, `the local layer holding ${key}`);
  return state.getLocal!(key)!;
}

const dropped = (state: RedisState, key: string, what: string): Promise<void> =>
  eventually(() => state.getLocal!(key) === undefined, 5000, what);

beforeAll(async () => {
  server = await startRedisServer();
  raw = await connectRawClient(server.url);
}, 30_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close()));
});

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

describe("the local option", () => {
  test("is off by default: the state does not claim a local copy, and localStats() says so", async () => {
    const state = open({ prefix: `local-${++prefixes}:` });
    await state.set("m1:s:f|k", 1, 60);
    expect(await state.get("m1:s:f|k")).toEqual({ value: 1 });
    expect(isLocallyCached(state)).toBe(false);
    expect(state.getLocal).toBeUndefined();
    expect(state.localReader).toBeUndefined();
    expect(state.localStats()).toBeUndefined();
    expect(isLocallyCached(open({ prefix: `local-${++prefixes}:`, local: true }))).toBe(true);
  });

  test.each([
    ["yes", /local must be true, false or \{ maxEntries, maxBytes, ttl \}, got "yes"/],
    [{ maxEntries: 0 }, /local.maxEntries must be a positive integer or Infinity, got 0/],
    [{ maxEntries: 1.5 }, /local.maxEntries must be a positive integer or Infinity, got 1.5/],
    [{ maxBytes: -1 }, /local.maxBytes must be a positive integer or Infinity, got -1/],
    [{ ttl: 0 }, /local.ttl must be a positive number of seconds or null, got 0/],
    [{ ttl: "1" }, /local.ttl must be a positive number of seconds or null, got "1"/],
    [{ maxentries: 5 }, /RedisState: local: unknown option "maxentries" \(did you mean "maxEntries"\?\); known options: maxEntries, maxBytes, ttl, policy/],
  ])("rejects local: %j, naming the value", (local, message) => {
    expect(() => new RedisState({ url: server.url, local: local as never })).toThrow(InvalidOptionError);
    expect(() => new RedisState({ url: server.url, local: local as never })).toThrow(message);
  });
});

describe("what the local layer serves", () => {
  test("a repeat read is served locally, already deserialized: the very same object", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:a:f|k", { when: new Date(0), tags: new Set(["a"]) }, 60);
    const held = await fill(reader, "m1:a:f|k");
    expect(held.value).toEqual({ when: new Date(0), tags: new Set(["a"]) });
    expect((await reader.get("m1:a:f|k"))!.value).toBe(held.value);
    expect(reader.getSync("m1:a:f|k")!.value).toBe(held.value);
    expect(reader.localStats()).toMatchObject({ tracking: true, entries: 1 });
    expect(reader.localStats()!.bytes).toBeGreaterThan(10);
  });

  test("a cached undefined is held as a hit, and a miss is never held", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:a:f|u", undefined, 60);
    expect(await fill(reader, "m1:a:f|u")).toEqual(expect.objectContaining({ value: undefined }));
    expect(await reader.get("m1:a:f|absent")).toBeUndefined();
    expect(reader.getLocal!("m1:a:f|absent")).toBeUndefined();
  });

  test("synchronous reads fill the layer too (the layer lives on the calling thread)", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:s:f|k", "v", 60);
    await eventually(() => {
      reader.getSync("m1:s:f|k");
      return reader.getLocal!("m1:s:f|k") !== undefined;
    }, 10_000, "a sync read filling the layer");
    expect(reader.getSync("m1:s:f|k")).toEqual(expect.objectContaining({ value: "v" }));
  });

  test("keys that Redis stores in another form (over 512 chars, lone surrogates) are read from Redis every time", async () => {
    const { reader, writer } = pair();
    const long = `m1:a:f|${"x".repeat(600)}`;
    const illFormed = "m1:a:f|\ud800";
    await writer.set(long, 1, 60);
    await writer.set(illFormed, 2, 60);
    await writer.set("m1:a:f|warm", 0, 60);
    await fill(reader, "m1:a:f|warm"); // tracking is up once a plain key fills
    expect(await reader.get(long)).toEqual({ value: 1 });
    expect(await reader.get(illFormed)).toEqual({ value: 2 });
    expect(reader.getLocal!(long)).toBeUndefined();
    expect(reader.getLocal!(illFormed)).toBeUndefined();
  });
});

describe("a miss reads the local copy once", () => {
  test("getLocal then get of the same key (what Mimic does) looks at the copy once, and still asks Redis", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:a:f|warm", 0, 60);
    await fill(reader, "m1:a:f|warm");
    await writer.set("m1:a:f|k", "v", 60);
    const lookups = jest.spyOn(MemoryState.prototype, "getSync");
    try {
      expect(reader.getLocal!("m1:a:f|k")).toBeUndefined();
      expect(await reader.get("m1:a:f|k")).toEqual({ value: "v" });
      expect(lookups).toHaveBeenCalledTimes(1);
      // Without a getLocal before it, get looks at the copy itself: a held entry is served from it.
      lookups.mockClear();
      expect((await reader.get("m1:a:f|k"))?.value).toBe("v");
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(reader.getLocal!("m1:a:f|k")).toEqual(expect.objectContaining({ value: "v" }));
    } finally {
      lookups.mockRestore();
    }
  });
});

describe("coherence: what drops an entry", () => {
  test("another state overwrites it: dropped, and the next read returns the new value", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:a:f|k", "old", 60);
    await fill(reader, "m1:a:f|k");
    await writer.set("m1:a:f|k", "new", 60);
    await dropped(reader, "m1:a:f|k", "the overwritten entry leaving the layer");
    expect(await reader.get("m1:a:f|k")).toEqual({ value: "new" });
  });

  test("raw SET (another entry's bytes), DEL, PEXPIRE and FLUSHDB from another client drop it", async () => {
    const { reader, writer, prefix } = pair();
    await writer.set("m1:a:f|k", "old", 60);
    await writer.set("m1:a:f|other", "copied", 60);
    await fill(reader, "m1:a:f|k");
    await raw.set(`${prefix}m1:a:f|k`, (await raw.sendCommand(["GET", `${prefix}m1:a:f|other`], { typeMapping: { 36: Buffer } })) as Buffer);
    await dropped(reader, "m1:a:f|k", "a raw SET dropping the entry");
    expect((await fill(reader, "m1:a:f|k")).value).toBe("copied");

    await raw.del(`${prefix}m1:a:f|k`);
    await dropped(reader, "m1:a:f|k", "a raw DEL dropping the entry");
    expect(await reader.get("m1:a:f|k")).toBeUndefined();

    await writer.set("m1:a:f|k", "again", 60);
    await fill(reader, "m1:a:f|k");
    await raw.pExpire(`${prefix}m1:a:f|k`, 1);
    // PEXPIRE itself is announced at once, before the key has expired: read only once it has.
    await eventually(async () => (await raw.exists(`${prefix}m1:a:f|k`)) === 0, 5000, "the key expiring in Redis");
    await dropped(reader, "m1:a:f|k", "an expiry dropping the entry");
    expect(await reader.get("m1:a:f|k")).toBeUndefined();

    await fill(reader, "m1:a:f|other");
    const flushesBefore = reader.localStats()!.flushes;
    await raw.flushDb();
    await dropped(reader, "m1:a:f|other", "FLUSHDB dropping the layer");
    expect(reader.localStats()!.flushes).toBeGreaterThan(flushesBefore);
  });

  test("never outlives the Redis TTL, even before Redis announces the expiry", async () => {
    const { reader, writer } = pair();
    // Tracking first (on a loaded machine it can take longer than the short entry lives).
    await writer.set("m1:a:f|warm", 0, 60);
    await fill(reader, "m1:a:f|warm");
    await writer.set("m1:a:f|short", "v", 1);
    await fill(reader, "m1:a:f|short");
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(reader.getLocal!("m1:a:f|short")).toBeUndefined();
  });

  test("local.ttl caps how long an entry is served locally (Redis still holds it)", async () => {
    const { reader, writer } = pair({ ttl: 0.3 });
    await writer.set("m1:a:f|k", "v", 60);
    await fill(reader, "m1:a:f|k");
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(reader.getLocal!("m1:a:f|k")).toBeUndefined();
    expect(await reader.get("m1:a:f|k")).toEqual(expect.objectContaining({ value: "v" }));
  });

  test("its own writes, deletes, clears, prefix deletes and tag invalidations take effect at once", async () => {
    const { reader } = pair();
    const key = "m1:a:f|k";
    await reader.set(key, 1, 60);
    await fill(reader, key);
    await reader.set(key, 2, 60);
    expect(await reader.get(key)).toEqual({ value: 2 });
    await fill(reader, key);
    reader.setSync(key, 3, 60);
    expect(reader.getSync(key)).toEqual(expect.objectContaining({ value: 3 }));

    await fill(reader, key);
    await reader.delete(key);
    expect(reader.getLocal!(key)).toBeUndefined();
    expect(await reader.get(key)).toBeUndefined();

    await reader.set(key, 4, 60, { tags: ["t"] });
    await fill(reader, key);
    await reader.invalidateTags(["t"]);
    expect(await reader.get(key)).toBeUndefined();

    await reader.set(key, 5, 60);
    await fill(reader, key);
    await reader.deletePrefix("m1:a:f|");
    expect(await reader.get(key)).toBeUndefined();

    await reader.set(key, 6, 60);
    await fill(reader, key);
    reader.clearSync();
    expect(reader.getSync(key)).toBeUndefined();
  });

  test("its own tag invalidation drops exactly the tagged copies, at once, and keeps the rest", async () => {
    const { reader } = pair();
    await reader.set("m1:a:f|tagged", "t", 60, { tags: ["red"] });
    await reader.set("m1:a:f|both", "b", 60, { tags: ["red", "blue"] });
    await reader.set("m1:a:f|plain", "p", 60);
    await reader.set("m1:a:f|other", "o", 60, { tags: ["blue"] });
    for (const key of ["m1:a:f|tagged", "m1:a:f|both", "m1:a:f|plain", "m1:a:f|other"]) await fill(reader, key);
    const flushes = reader.localStats()!.flushes;

    await reader.invalidateTags(["red"]);
    // At once, not upon Redis's invalidation message: the call has returned.
    expect(reader.getLocal!("m1:a:f|tagged")).toBeUndefined();
    expect(reader.getLocal!("m1:a:f|both")).toBeUndefined();
    expect(await reader.get("m1:a:f|tagged")).toBeUndefined();
    expect(await reader.get("m1:a:f|both")).toBeUndefined();
    // Untouched entries keep being served locally: the layer was not dropped whole.
    expect(reader.getLocal!("m1:a:f|plain")).toEqual(expect.objectContaining({ value: "p" }));
    expect(reader.getLocal!("m1:a:f|other")).toEqual(expect.objectContaining({ value: "o" }));
    expect(reader.localStats()!.flushes).toBe(flushes);
  });

  test("another state's tag invalidation drops the tagged copies (Redis reports the tag record's change)", async () => {
    const { reader, writer } = pair();
    await writer.set("m1:a:f|tagged", "t", 60, { tags: ["red"] });
    await writer.set("m1:a:f|plain", "p", 60);
    for (const key of ["m1:a:f|tagged", "m1:a:f|plain"]) await fill(reader, key);
    await writer.invalidateTags(["red"]);
    await dropped(reader, "m1:a:f|tagged", "the tagged copy dropped after another state's invalidateTags");
    expect(await reader.get("m1:a:f|tagged")).toBeUndefined();
    expect(reader.getLocal!("m1:a:f|plain")).toEqual(expect.objectContaining({ value: "p" }));
    // Written again after the invalidation: fresh, and held again.
    await writer.set("m1:a:f|tagged", "t2", 60, { tags: ["red"] });
    expect((await fill(reader, "m1:a:f|tagged")).value).toBe("t2");
  });

  test("a synchronous loop that never yields still sees another client's change", async () => {
    const { reader, prefix } = pair();
    await reader.set("m1:s:f|k", "old", 60);
    await eventually(() => {
      reader.getSync("m1:s:f|k");
      return reader.getLocal!("m1:s:f|k") !== undefined;
    }, 10_000, "a sync read filling the layer");
    // The write is sent first; the loop below then blocks this thread until it sees the change.
    const writing = raw.set(`${prefix}m1:s:f|k`, "garbage");
    await writing;
    const deadline = Date.now() + 5000;
    let seen: unknown = "old";
    while (seen === "old" && Date.now() < deadline) {
      try {
        seen = reader.getSync("m1:s:f|k")?.value;
      } catch (error) {
        seen = (error as { code?: string }).code; // the raw bytes are not an entry: a corrupt-entry error
      }
    }
    expect(seen).toBe("MIMIC_CORRUPT_ENTRY");
  });
});

describe("bounds", () => {
  test("maxEntries: the least recently used go first, and the count never exceeds the bound", async () => {
    const { reader, writer } = pair({ maxEntries: 5, policy: "lru" });
    for (let i = 0; i < 20; i++) await writer.set(`m1:a:f|${i}`, i, 60);
    await fill(reader, "m1:a:f|0");
    for (let i = 1; i < 20; i++) {
      await reader.get(`m1:a:f|${i}`);
      await reader.get("m1:a:f|0"); // kept in use
      expect(reader.localStats()!.entries).toBeLessThanOrEqual(5);
    }
    expect(reader.getLocal!("m1:a:f|0")).toBeDefined();
    expect(reader.getLocal!("m1:a:f|19")).toBeDefined();
    expect(reader.getLocal!("m1:a:f|1")).toBeUndefined();
  });

  test("maxBytes: the serialized bytes held never exceed the bound; an entry larger than it is not held", async () => {
    const { reader, writer } = pair({ maxBytes: 1000 });
    for (let i = 0; i < 10; i++) await writer.set(`m1:a:f|${i}`, "x".repeat(200), 60);
    await writer.set("m1:a:f|huge", "y".repeat(5000), 60);
    await fill(reader, "m1:a:f|0");
    for (let i = 1; i < 10; i++) {
      await reader.get(`m1:a:f|${i}`);
      expect(reader.localStats()!.bytes).toBeLessThanOrEqual(1000);
    }
    expect(reader.localStats()!.entries).toBeGreaterThanOrEqual(3);
    expect(reader.getLocal!("m1:a:f|9")).toBeDefined();
    expect(await reader.get("m1:a:f|huge")).toEqual({ value: "y".repeat(5000) });
    expect(reader.getLocal!("m1:a:f|huge")).toBeUndefined();
  });
});

describe("with Mime", () => {
  test("an async function: repeat hits come from the layer, and another process's overwrite is seen", async () => {
    const { reader, writer } = pair();
    let calls = 0;
    let inOtherProcess = false;
    // One function object for both wrappers (two would be warned about as a shared identity).
    const load = async (id: number) => ({ id, calls: inOtherProcess ? -1 : ++calls });
    const user = Mime({ ttl: 60, state: reader, name: "local.user" })(load);
    const other = Mime({ ttl: 60, state: writer, name: "local.user" })(load);
    expect(await user(7)).toEqual({ id: 7, calls: 1 });
    await fill(reader, user.key(7));
    const first = await user(7);
    expect(await user(7)).toBe(first); // the same object: served by the layer
    expect(calls).toBe(1);
    await other.invalidate(7);
    inOtherProcess = true;
    expect(await other(7)).toEqual({ id: 7, calls: -1 });
    inOtherProcess = false;
    await dropped(reader, user.key(7), "the entry another state rewrote");
    expect(await user(7)).toEqual({ id: 7, calls: -1 });
    expect(calls).toBe(1);
  });

  test("a sync function on two arguments: hits from the layer, and invalidate() is seen at once", async () => {
    const { reader } = pair();
    let calls = 0;
    const add = Mime({ ttl: 60, state: reader, name: "local.add", version: "1" })((a: number, b: string) => `${a}${b}:${++calls}`);
    expect(add(1, "x")).toBe("1x:1");
    await eventually(() => {
      add(1, "x");
      return reader.getLocal!(add.key(1, "x")) !== undefined;
    }, 10_000, "the sync result filling the layer");
    expect(add(1, "x")).toBe("1x:1");
    add.invalidate(1, "x");
    expect(add(1, "x")).toBe("1x:2");
  });
});

describe("losing Redis", () => {
  test("killing and restarting Redis flushes the layer; it fills again after the restart", async () => {
    const own = await startRedisServer();
    try {
      const state = new RedisState({ url: own.url, timeout, local: true, prefix: "restart:" });
      opened.push(state);
      await state.set("m1:a:f|k", "before", 60);
      await fill(state, "m1:a:f|k");
      own.kill("SIGKILL");
      await eventually(() => state.localStats()!.tracking === false, 5000, "tracking lost after SIGKILL");
      expect(state.getLocal!("m1:a:f|k")).toBeUndefined();
      expect(state.localStats()!.flushes).toBeGreaterThanOrEqual(1);
      await own.restart();
      // The restarted server is empty: a stale local copy would still answer "before".
      await eventually(async () => {
        try {
          return (await state.get("m1:a:f|k")) === undefined;
        } catch {
          return false; // reconnecting
        }
      }, 10_000, "a miss after the restart");
      await eventually(async () => {
        try {
          await state.set("m1:a:f|k", "after", 60);
          return true;
        } catch {
          return false;
        }
      }, 10_000, "a write after the restart");
      expect((await fill(state, "m1:a:f|k")).value).toBe("after");
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe("a hung Redis", () => {
  test("a tracking connection that stops answering (SIGSTOP) drops the layer; tracking returns after SIGCONT", async () => {
    const own = await startRedisServer();
    try {
      const state = new RedisState({ url: own.url, timeout: 300, local: true, prefix: "hung:" });
      opened.push(state);
      await state.set("m1:a:f|k", "v", 60);
      await fill(state, "m1:a:f|k");
      own.pause();
      try {
        // The heartbeat (every 0.5 s, bounded by max(timeout, 500 ms)) gives up on the connection.
        await eventually(() => state.localStats()!.tracking === false, 5000, "tracking lost while Redis is hung");
        expect(state.getLocal!("m1:a:f|k")).toBeUndefined();
      } finally {
        own.resume();
      }
      await eventually(() => state.localStats()!.tracking, 10_000, "tracking back after SIGCONT");
      expect((await fill(state, "m1:a:f|k")).value).toBe("v");
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe("on a Redis Cluster", () => {
  let cluster: RedisClusterHandle;
  let client: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
    client.on("error", () => undefined);
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  test("keys on every master are held, and a write through another client drops each", async () => {
    const reader = new RedisState({ client, timeout, local: true, prefix: "cl:" });
    const writer = new RedisState({ client, timeout, prefix: "cl:" });
    opened.push(reader, writer);
    // Enough keys to land on all three masters.
    const keys = Array.from({ length: 12 }, (_, i) => `m1:a:f|${i}`);
    for (const key of keys) await writer.set(key, `old ${key}`, 60);
    for (const key of keys) await fill(reader, key);
    for (const key of keys) await client.set(`cl:${key}`, "raw");
    for (const key of keys) await dropped(reader, key, `${key} dropped after a write in the cluster`);
  }, 60_000);
});
