import {
  CorruptEntryError,
  InvalidTtlError,
  StateClosedError,
  jsonSerializer,
  v8Serializer,
  type Serializer,
} from "@mimic/core";
import { createClient } from "redis";
import { ENTRY_FORMAT_VERSION, MAX_KEY_LENGTH, RedisState, UnserializableValueError } from "../src/index.js";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

let server: RedisServerHandle;
let raw: ReturnType<typeof createClient>;
const opened: RedisState[] = [];
let prefixes = 0;

function open(options: { prefix?: string; serializer?: Serializer } = {}): RedisState {
  // These tests are about entries, not latency, and may run on a loaded machine.
  const state = new RedisState({
    url: server.url,
    prefix: options.prefix ?? `entries:${++prefixes}:`,
    timeout: RELAXED_TIMEOUT_MS,
    ...options,
  });
  opened.push(state);
  return state;
}

beforeAll(async () => {
  server = await startRedisServer();
  raw = createClient({ url: server.url });
  await raw.connect();
  // Keeps the shared worker thread up between tests.
  await warmSync(open({ prefix: "anchor:" }));
});

afterEach(async () => {
  // The anchor (first) stays open.
  await Promise.all(opened.splice(1).map((state) => state.close()));
});

afterAll(async () => {
  await Promise.all(opened.map((state) => state.close()));
  raw?.destroy();
  await server?.stop();
});

describe("ttl", () => {
  test("a ttl in seconds becomes a PX expiry in milliseconds", async () => {
    const state = open();
    await state.set("k", 1, 1.5);
    const pttl = await raw.pTTL(`${state.prefix}k`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1500);
  });

  test("a null ttl never expires, and overwriting with null removes an earlier expiry", async () => {
    const state = open();
    await state.set("k", 1, 60);
    await state.set("k", 2, null);
    expect(await raw.pTTL(`${state.prefix}k`)).toBe(-1);
    expect(await state.get("k")).toEqual({ value: 2 });
  });

  test("set overwrites value and expiry (the seed's NX never refreshed)", async () => {
    const state = open();
    await state.set("k", "old", 1);
    await state.set("k", "new", 100);
    expect(await state.get("k")).toEqual({ value: "new" });
    expect(await raw.pTTL(`${state.prefix}k`)).toBeGreaterThan(1000);
  });

  test("ttl 0 removes the entry: it would be expired at once", async () => {
    const state = open();
    await state.set("k", 1, null);
    await state.set("k", 2, 0);
    expect(await state.get("k")).toBeUndefined();
    state.setSync("s", 1, null);
    state.setSync("s", 2, 0);
    expect(state.getSync("s")).toBeUndefined();
  });

  test("a negative or NaN ttl is an InvalidTtlError naming the key", async () => {
    const state = open();
    await expect(state.set("k", 1, -1)).rejects.toThrow(InvalidTtlError);
    await expect(state.set("k", 1, Number.NaN)).rejects.toThrow(/"k"/);
    expect(() => state.setSync("k", 1, -1)).toThrow(InvalidTtlError);
  });
});

describe("entry format", () => {
  test("an entry is a header (format byte, version, flags, serializer name, tags, start when tagged) followed by the serializer's bytes", async () => {
    const state = open();
    await state.set("k", { a: 1 }, null);
    await state.set("t", "tagged", null, { tags: ["x", "yz"] });
    const bytes = await raw.withTypeMapping({ [36]: Buffer }).get(`${state.prefix}k`);
    const stored = bytes as unknown as Buffer;
    expect(ENTRY_FORMAT_VERSION).toBe(3);
    expect([...stored.subarray(0, 4)]).toEqual([0x6d, ENTRY_FORMAT_VERSION, 0, 2]);
    expect(stored.subarray(4, 6).toString()).toBe("v8");
    expect([...stored.subarray(6, 8)]).toEqual([0, 0]);
    expect(v8Serializer.deserialize(stored.subarray(8))).toEqual({ a: 1 });
    const tagged = (await raw.withTypeMapping({ [36]: Buffer }).get(`${state.prefix}t`)) as unknown as Buffer;
    expect([...tagged.subarray(6, 15)]).toEqual([0, 2, 0, 1, 0x78, 0, 2, 0x79, 0x7a]);
    // The start: microseconds of Redis server time, within a minute of now.
    const start = Number(tagged.readBigUInt64BE(15));
    expect(Math.abs(start / 1000 - Date.now())).toBeLessThan(60_000);
    expect(v8Serializer.deserialize(tagged.subarray(23))).toBe("tagged");
  });

  test.each([
    ["garbage bytes", Buffer.from("definitely not an entry"), /not a Mimic entry/],
    ["an empty string", Buffer.alloc(0), /not a Mimic entry/],
    ["a future format version", Buffer.from([0x6d, 99, 0, 2, 0x76, 0x38, 0, 0, 1, 2]), /format version 99/],
    ["format 1 (before tags)", Buffer.from([0x6d, 1, 2, 0x76, 0x38, 1, 2]), /format version 1;/],
    ["a truncated header", Buffer.from([0x6d, ENTRY_FORMAT_VERSION, 0, 40, 0x76]), /truncated/],
    ["a truncated tag list", Buffer.from([0x6d, ENTRY_FORMAT_VERSION, 0, 2, 0x76, 0x38, 0, 1, 0, 9, 0x78]), /truncated/],
    ["a signed entry, without a secret here", Buffer.from([0x6d, ENTRY_FORMAT_VERSION, 1, 2, 0x76, 0x38, 0, 0, ...new Uint8Array(32), 1]), /is signed/],
    ["a truncated v8 payload", Buffer.concat([Buffer.from([0x6d, ENTRY_FORMAT_VERSION, 0, 2, 0x76, 0x38, 0, 0]), v8Serializer.serialize("a long enough string").subarray(0, 4)]), /does not deserialize/],
  ])("%s under a key is a CorruptEntryError naming the key, sync and async; the next set overwrites it", async (_, bytes, message) => {
    const state = open();
    await raw.set(`${state.prefix}k`, bytes);
    await expect(state.get("k")).rejects.toThrow(CorruptEntryError);
    await expect(state.get("k")).rejects.toThrow(message);
    await expect(state.get("k")).rejects.toThrow(/"k"/);
    expect(() => state.getSync("k")).toThrow(CorruptEntryError);
    await state.set("k", "fresh", null);
    expect(await state.get("k")).toEqual({ value: "fresh" });
    expect(state.getSync("k")).toEqual({ value: "fresh" });
  });

  test("bytes written by another serializer are a CorruptEntryError naming both serializers", async () => {
    const prefix = `entries:shared-${++prefixes}:`;
    const writer = open({ prefix, serializer: jsonSerializer });
    const reader = open({ prefix, serializer: v8Serializer });
    await writer.set("k", { a: 1 }, null);
    await expect(reader.get("k")).rejects.toThrow(/written by serializer "json"; this state reads "v8"/);
  });

  test("a value the serializer cannot encode is an UnserializableValueError, and nothing is written", async () => {
    const state = open();
    await expect(state.set("k", () => 1, null)).rejects.toThrow(UnserializableValueError);
    expect(() => state.setSync("k", Symbol("s"), null)).toThrow(UnserializableValueError);
    expect(await state.get("k")).toBeUndefined();
  });
});

describe("keys", () => {
  test("a key longer than the limit is stored as its namespace plus a digest, and still round-trips", async () => {
    const state = open();
    const long = `f|${"x".repeat(MAX_KEY_LENGTH * 3)}`;
    const other = `f|${"x".repeat(MAX_KEY_LENGTH * 3 - 1)}y`;
    await state.set(long, "long", null);
    await state.set(other, "other", null);
    expect(await state.get(long)).toEqual({ value: "long" });
    expect(state.getSync(other)).toEqual({ value: "other" });
    const keys = await raw.keys(`${state.prefix}*`);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.startsWith(`${state.prefix}f|#`)).toBe(true);
      expect(key.length).toBeLessThan(state.prefix.length + 100);
    }
  });
});

describe("delete and clear", () => {
  test("delete removes one entry; deleting a missing key is not an error", async () => {
    const state = open();
    await state.set("a", 1, null);
    await state.set("b", 2, null);
    await state.delete("a");
    await state.delete("never-there");
    state.deleteSync("also-never-there");
    expect(await state.get("a")).toBeUndefined();
    expect(await state.get("b")).toEqual({ value: 2 });
  });

  test("clear removes only this prefix, with glob characters in it taken literally, and leaves other keys alone", async () => {
    const globby = open({ prefix: "g*[ab]?\\:" });
    const lookalike = open({ prefix: "gx[ab]?\\:" });
    const sibling = open({ prefix: "gXaZ\\:" });
    await raw.set("outside-any-prefix", "keep me");
    for (const state of [globby, lookalike, sibling]) await state.set("k", state.prefix, null);
    await globby.clear();
    expect(await globby.get("k")).toBeUndefined();
    expect(await lookalike.get("k")).toEqual({ value: lookalike.prefix });
    expect(await sibling.get("k")).toEqual({ value: sibling.prefix });
    expect(await raw.get("outside-any-prefix")).toBe("keep me");
  });

  test("clear walks the whole keyspace in batches (2,500 entries), async and sync", async () => {
    const state = open();
    const other = open();
    await other.set("survivor", true, null);
    // Filled with raw MSETs: this test is about clear(), and thousands of state writes in flight at once
    // would outlast any sensible timeout on a loaded machine. clear() removes any key under the prefix.
    const fill = async (name: string, count: number): Promise<void> => {
      for (let start = 0; start < count; start += 500) {
        const pairs: Array<[string, string]> = [];
        for (let i = start; i < Math.min(start + 500, count); i++) pairs.push([`${state.prefix}${name}${i}`, String(i)]);
        await raw.mSet(pairs);
      }
    };
    // The state's invalidation records aside: clear() stamps one, which must outlive the flights it fences.
    const keys = async (): Promise<string[]> => (await raw.keys(`${state.prefix}*`)).filter((key) => !key.includes("{tagv}"));
    await fill("k", 2500);
    expect(await keys()).toHaveLength(2500);
    await state.clear();
    expect(await keys()).toHaveLength(0);
    await fill("s", 1200);
    state.clearSync();
    expect(await keys()).toHaveLength(0);
    expect(await other.get("survivor")).toEqual({ value: true });
  });
});

describe("clients and closing", () => {
  test("a client passed in is used, connected on first use if needed, and left open by close()", async () => {
    const client = createClient({ url: server.url });
    client.on("error", () => undefined);
    const state = new RedisState({ client, prefix: "borrowed:", timeout: RELAXED_TIMEOUT_MS });
    try {
      await state.set("k", 1, null);
      expect(client.isOpen).toBe(true);
      // The worker thread opens its own connection from the client's options: let it connect first.
      await warmSync(state);
      expect(state.getSync("k")).toEqual({ value: 1 });
      await state.close();
      expect(client.isOpen).toBe(true);
      expect(await client.ping()).toBe("PONG");
    } finally {
      await state.close();
      client.destroy();
    }
  });

  test("after close(), every operation fails with StateClosedError; close() twice is fine", async () => {
    const state = new RedisState({ url: server.url, prefix: "closed:", timeout: RELAXED_TIMEOUT_MS });
    await state.set("k", 1, null);
    expect(state.getSync("k")).toEqual({ value: 1 });
    await state.close();
    await state.close();
    await expect(state.get("k")).rejects.toThrow(StateClosedError);
    await expect(state.set("k", 1, null)).rejects.toThrow(StateClosedError);
    await expect(state.clear()).rejects.toThrow(StateClosedError);
    expect(() => state.getSync("k")).toThrow(StateClosedError);
    expect(() => state.clearSync()).toThrow(StateClosedError);
  });
});
