import { CorruptEntryError, InvalidOptionError, Mime, StateError, type MimicError } from "@mimic/core";
import { createClient, createCluster } from "redis";
import { InvalidTagError, MIN_SECRET_BYTES, RedisState, type RedisStateOptions } from "../src/index.js";
import { freePort, startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
let clusterClient: ReturnType<typeof createCluster>;
let raw: ReturnType<typeof createClient>;
const opened: RedisState[] = [];
let prefixes = 0;
const SECRET = "0123456789abcdef-a-test-secret";

function open(options: Partial<RedisStateOptions> = {}): RedisState {
  const state = new RedisState({
    url: server.url,
    prefix: `caps-${++prefixes}:`,
    timeout: RELAXED_TIMEOUT_MS,
    ...(options.client === undefined ? {} : { url: undefined }),
    ...options,
  } as RedisStateOptions);
  opened.push(state);
  return state;
}

function openOnCluster(options: Partial<RedisStateOptions> = {}): RedisState {
  const state = new RedisState({ client: clusterClient, prefix: `caps-${++prefixes}:`, timeout: RELAXED_TIMEOUT_MS, ...options });
  opened.push(state);
  return state;
}

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster(3)]);
  raw = createClient({ url: server.url });
  await raw.connect();
  clusterClient = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
  clusterClient.on("error", () => undefined);
  await clusterClient.connect();
  // Keep the shared worker thread and its pooled connections up for the whole file.
  await warmSync(open({ prefix: "anchor:" }));
  await warmSync(openOnCluster({ prefix: "anchor:" }));
}, 60_000);

afterEach(async () => {
  await Promise.all(opened.splice(2).map((state) => state.close()));
});

afterAll(async () => {
  await Promise.all(opened.map((state) => state.close()));
  raw?.destroy();
  await clusterClient?.close();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

const buffers = () => raw.withTypeMapping({ [36]: Buffer });

describe("fn.clear() (deletePrefix)", () => {
  test.each(["single server", "cluster"])("on a %s: removes one function's entries, sync and async, and not another function's with the same arguments", async (where) => {
    const state = where === "cluster" ? openOnCluster() : open();
    let runs = 0;
    const a = Mime({ ttl: 60, state, name: `a-${where}` })(async (n: number) => ++runs + n * 0);
    const b = Mime({ ttl: 60, state, name: `b-${where}` })(async (n: number) => ++runs + n * 0);
    const s = Mime({ ttl: 60, state, name: `s-${where}` })(function s(n: number): number {
      return ++runs + n * 0;
    });
    for (const n of [1, 2, 3]) {
      await a(n);
      await b(n);
      s(n);
    }
    expect(runs).toBe(9);
    await a.clear();
    s.clear();
    for (const n of [1, 2, 3]) {
      expect(await b.peek(n)).toBeDefined();
      expect(await a.peek(n)).toBeUndefined();
      expect(s.peek(n)).toBeUndefined();
    }
  });

  test("removes the namespace's long and lone-surrogate keys too (all stored forms), and nothing outside it", async () => {
    const state = open();
    const keys = [
      "f|short",
      `f|${"x".repeat(2000)}`,
      "f|lone \ud800",
      `f|lone long ${"\udc00".repeat(2000)}`,
      "f\ud800|ill-formed namespace",
      `f\ud800|ill-formed namespace, long ${"y".repeat(2000)}`,
    ];
    const others = ["ff|short", "f\ud800x|other", "g|f|quoted", "f", "f\ud800", "\ud800f|x"];
    for (const key of [...keys, ...others]) await state.set(key, key, null);
    await state.deletePrefix("f|");
    await state.deletePrefix("f\ud800|");
    for (const key of keys) expect(await state.get(key)).toBeUndefined();
    for (const key of others) expect(await state.get(key)).toEqual({ value: key });
    // Sync, through the worker thread: the same patterns.
    for (const key of keys) await state.set(key, key, null);
    state.deletePrefixSync("f|");
    state.deletePrefixSync("f\ud800|");
    for (const key of keys) expect(await state.get(key)).toBeUndefined();
    for (const key of others) expect(await state.get(key)).toEqual({ value: key });
  });

  test("glob characters in the state prefix and the namespace match literally", async () => {
    const globby = open({ prefix: "caps-[a]*?\\:" });
    const lookalike = open({ prefix: "caps-a-x\\:" });
    await globby.set("n*[1]|k", 1, null);
    await globby.set("n-x-1]|k", 2, null);
    await lookalike.set("n*[1]|k", 3, null);
    await globby.deletePrefix("n*[1]|");
    expect(await globby.get("n*[1]|k")).toBeUndefined();
    expect(await globby.get("n-x-1]|k")).toEqual({ value: 2 });
    expect(await lookalike.get("n*[1]|k")).toEqual({ value: 3 });
  });
});

describe("tags", () => {
  test("a tag shared by two functions (one sync, one async) removes both; other tags and functions stay", async () => {
    const state = open();
    let runs = 0;
    const users = Mime({ ttl: 60, state, name: "users", tags: (id: number) => ["users", `user:${id}`] })(async (id: number) => {
      runs++;
      return { id };
    });
    const profiles = Mime({ ttl: 60, state, name: "profiles", tags: () => ["users"] })(function profiles(id: number): string {
      runs++;
      return `p${id}`;
    });
    const other = Mime({ ttl: 60, state, name: "other", tags: () => ["other"] })(async (id: number) => {
      runs++;
      return id;
    });
    for (const id of [1, 2]) {
      await users(id);
      profiles(id);
      await other(id);
    }
    expect(runs).toBe(6);
    await Mime.invalidateTags(["user:1"]);
    expect(await users.peek(1)).toBeUndefined();
    expect(await users.peek(2)).toBeDefined();
    await Mime.invalidateTags(["users"]);
    for (const id of [1, 2]) {
      expect(await users.peek(id)).toBeUndefined();
      expect(profiles.peek(id)).toBeUndefined();
      expect(await other.peek(id)).toEqual({ value: id });
    }
  });

  test("a tagged write still in flight is not stored after an invalidation, delete or deletePrefix this process starts later", async () => {
    const state = open();
    for (let round = 0; round < 20; round++) {
      void state.set(`f|k${round}`, round, null, { tags: ["t"] });
      await (round % 3 === 0 ? state.invalidateTags(["t"]) : round % 3 === 1 ? state.delete(`f|k${round}`) : state.deletePrefix("f|"));
      expect(await state.get(`f|k${round}`)).toBeUndefined();
    }
  });

  test("a tag's record lives at least as long as its longest entry, and forever with an entry that never expires", async () => {
    const state = open();
    const record = Buffer.concat([Buffer.from(state.prefix), Buffer.from([0xfe]), Buffer.from("{tagv}t")]);
    await state.set("long", 1, 100, { tags: ["t"] });
    await state.set("short", 2, 5, { tags: ["t"] });
    const pttl = await raw.pTTL(record);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    state.setSync("forever", 3, null, { tags: ["t"] });
    expect(await raw.pTTL(record)).toBe(-1);
    for (const key of ["long", "short", "forever"]) expect(await state.get(key)).toBeDefined();
    await state.invalidateTags(["t"]);
    expect(await raw.pTTL(record)).toBe(-1);
    for (const key of ["long", "short", "forever"]) expect(await state.get(key)).toBeUndefined();
  });

  test("an entry whose bytes were replaced by a raw client is not removed by a tag its bytes no longer carry", async () => {
    const state = open();
    await state.set("k", 1, null, { tags: ["t"] });
    await raw.set(`${state.prefix}k`, "not an entry");
    await state.invalidateTags(["t"]);
    expect(await raw.get(`${state.prefix}k`)).toBe("not an entry");
  });

  test("a tag over 65,535 bytes is an InvalidTagError naming the key; nothing is written", async () => {
    const state = open();
    await expect(state.set("k", 1, null, { tags: ["x".repeat(70_000)] })).rejects.toThrow(InvalidTagError);
    await expect(state.set("k", 1, null, { tags: ["x".repeat(70_000)] })).rejects.toThrow(/"k"/);
    expect(await state.get("k")).toBeUndefined();
  });
});

describe("lock / unlock", () => {
  test.each(["single server", "cluster"])("on a %s: one holder at a time; unlock needs the holder's token; a lease expires by itself", async (where) => {
    const state = where === "cluster" ? openOnCluster() : open();
    const token = await state.lock("m1:a:f|A1:d1;", 10);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await state.lock("m1:a:f|A1:d1;", 10)).toBeUndefined();
    // Another key is free.
    const other = await state.lock("m1:a:f|A1:d2;", 0.2);
    expect(other).toBeDefined();
    await state.unlock("m1:a:f|A1:d1;", "not the token");
    expect(await state.lock("m1:a:f|A1:d1;", 10)).toBeUndefined();
    await state.unlock("m1:a:f|A1:d1;", token!);
    const again = await state.lock("m1:a:f|A1:d1;", 10);
    expect(again).toBeDefined();
    expect(again).not.toBe(token);
    // The 0.2 s lease expires: the key can be taken again, and the old token no longer releases it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const taken = await state.lock("m1:a:f|A1:d2;", 10);
    expect(taken).toBeDefined();
    await state.unlock("m1:a:f|A1:d2;", other!);
    expect(await state.lock("m1:a:f|A1:d2;", 10)).toBeUndefined();
  });

  test("leases are not entries: get misses, deletePrefix keeps them, clear removes them; lone-surrogate keys lock too", async () => {
    const state = open();
    const token = await state.lock("f|k", 10);
    expect(await state.get("f|k")).toBeUndefined();
    await state.deletePrefix("f|");
    expect(await state.lock("f|k", 10)).toBeUndefined();
    expect(await state.lock("f|\ud800", 10)).toBeDefined();
    expect(await state.lock("f|\udc00", 10)).toBeDefined();
    await state.clear();
    expect(await state.lock("f|k", 10)).toBeDefined();
    expect(token).toBeDefined();
  });

  test("a bad lease is an InvalidOptionError; a broken backend is a typed StateError", async () => {
    const state = open();
    await expect(state.lock("k", 0)).rejects.toThrow(InvalidOptionError);
    await expect(state.lock("k", Number.NaN)).rejects.toThrow(/lease/);
    const down = open({ url: `redis://127.0.0.1:${await freePort()}` });
    await expect(down.lock("k", 1)).rejects.toThrow(StateError);
    await expect(down.unlock("k", "t")).rejects.toMatchObject({ code: "MIMIC_REDIS_UNAVAILABLE" });
  });
});

describe("secret (signed entries)", () => {
  test("entries round-trip, sync and async, tagged or not", async () => {
    const state = open({ secret: SECRET });
    await state.set("k", { a: 1 }, null);
    state.setSync("s", [1], null, { tags: ["t"] });
    expect(await state.get("k")).toEqual({ value: { a: 1 } });
    expect(state.getSync("s")).toEqual({ value: [1] });
    await state.invalidateTags(["t"]);
    expect(await state.get("s")).toBeUndefined();
  });

  test("a value edited in Redis is a miss, reported as a CorruptEntryError, and never deserialized", async () => {
    let deserialized = 0;
    const watched = {
      name: "watched-json",
      serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
      deserialize: (bytes: Uint8Array): unknown => {
        deserialized++;
        return JSON.parse(Buffer.from(bytes).toString());
      },
    };
    const state = open({ secret: SECRET, serializer: watched });
    const errors: MimicError[] = [];
    let runs = 0;
    const f = Mime({ ttl: 60, state, name: "f", onError: (error) => errors.push(error) })(async (n: number) => {
      runs++;
      return { n, admin: false };
    });
    await f(1);
    const key = `${state.prefix}${f.key(1)}`;
    const stored = (await buffers().get(key)) as unknown as Buffer;
    const edited = Buffer.from(stored.toString("latin1").replace('"admin":false', '"admin":true '), "latin1");
    expect(edited.equals(stored)).toBe(false);
    await raw.set(key, edited);
    deserialized = 0;
    expect(await f(1)).toEqual({ n: 1, admin: false });
    expect(runs).toBe(2);
    expect(deserialized).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CorruptEntryError);
    expect(errors[0]!.message).toMatch(/wrong signature/);
    // The miss rewrote a good entry: a hit again.
    expect(await f(1)).toEqual({ n: 1, admin: false });
    expect(runs).toBe(2);
  });

  test("an entry forged without the secret (or with another one) is a miss; a state without a secret cannot read signed entries", async () => {
    const prefix = `caps-forge-${++prefixes}:`;
    const signed = open({ prefix, secret: SECRET });
    const forger = open({ prefix });
    const otherSecret = open({ prefix, secret: "another secret, also long enough" });
    await forger.set("k", "forged", null);
    await expect(signed.get("k")).rejects.toThrow(/not signed/);
    expect(() => signed.getSync("k")).toThrow(CorruptEntryError);
    await otherSecret.set("k", "forged", null);
    await expect(signed.get("k")).rejects.toThrow(/wrong signature/);
    await signed.set("k", "genuine", null);
    expect(await signed.get("k")).toEqual({ value: "genuine" });
    await expect(forger.get("k")).rejects.toThrow(/is signed/);
    // A genuine entry replayed under another key, or cut short, does not verify.
    const stored = (await buffers().get(`${prefix}k`)) as unknown as Buffer;
    await raw.set(`${prefix}other`, stored);
    await expect(signed.get("other")).rejects.toThrow(/wrong signature/);
    await raw.set(`${prefix}k`, stored.subarray(0, stored.length - 1));
    await expect(signed.get("k")).rejects.toThrow(CorruptEntryError);
  });

  test.each([["short", /at least 16 bytes, got 5/], [42, /string or a Uint8Array/], [new Uint8Array(3), /got 3/]])("secret %p is rejected without echoing it", (secret, message) => {
    expect(() => new RedisState({ url: server.url, secret } as unknown as RedisStateOptions)).toThrow(InvalidOptionError);
    expect(() => new RedisState({ url: server.url, secret } as unknown as RedisStateOptions)).toThrow(message);
    expect(MIN_SECRET_BYTES).toBe(16);
  });
});
