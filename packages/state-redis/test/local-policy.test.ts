import { InvalidOptionError } from "@mimic/core";
import { RedisState, type RedisStateOptions } from "../src/index.js";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";
import { eventually, RELAXED_TIMEOUT_MS } from "./helpers.js";

// The local layer's eviction policy (`local: { maxEntries, policy }`), against a real redis-server:
// the option reaches the layer's MemoryState, and the bound holds under each policy.

let server: RedisServerHandle;
let prefixes = 0;
const opened: RedisState[] = [];

function open(options: RedisStateOptions): RedisState {
  const state = new RedisState({ url: server.url, timeout: RELAXED_TIMEOUT_MS, ...options });
  opened.push(state);
  return state;
}

beforeAll(async () => {
  server = await startRedisServer();
}, 30_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((state) => state.close()));
});

afterAll(async () => {
  await server?.stop();
});

test.each([
  [{ policy: "lfu" }, 'RedisState: local.policy must be one of "lru", "tinylfu"; got "lfu"'],
  [{ policy: 3 }, 'RedisState: local.policy must be one of "lru", "tinylfu"; got 3'],
])("rejects local: %j, naming the value and the choices", (local, message) => {
  expect(() => new RedisState({ url: server.url, local: local as never })).toThrow(InvalidOptionError);
  expect(() => new RedisState({ url: server.url, local: local as never })).toThrow(message);
});

/**
 * Ten hot keys read five times each, then a scan of 60 keys read once, through a layer of 20 entries:
 * how many hot keys the layer still holds afterwards. Every read's value is checked.
 */
async function hotKeysHeldAfterScan(policy: "lru" | "tinylfu"): Promise<number> {
  const prefix = `policy-${++prefixes}:`;
  const writer = open({ prefix });
  const reader = open({ prefix, local: { maxEntries: 20, policy } });
  const hot = Array.from({ length: 10 }, (_, i) => `m1:a:f|hot${i}`);
  const scan = Array.from({ length: 60 }, (_, i) => `m1:a:f|scan${i}`);
  for (const key of [...hot, ...scan]) await writer.set(key, key.toUpperCase(), 60);
  // The layer fills only once tracking is up: read the first hot key until it is held.
  await eventually(async () => {
    await reader.get(hot[0]!);
    return reader.getLocal!(hot[0]!) !== undefined;
  }, 10_000, "the local layer filling");
  for (let round = 0; round < 5; round++) {
    for (const key of hot) expect((await reader.get(key))?.value).toBe(key.toUpperCase());
  }
  for (const key of scan) {
    expect((await reader.get(key))?.value).toBe(key.toUpperCase());
    expect(reader.localStats()!.entries).toBeLessThanOrEqual(20);
  }
  return hot.filter((key) => reader.getLocal!(key) !== undefined).length;
}

test("policy tinylfu keeps the hot keys through a scan; lru does not", async () => {
  expect(await hotKeysHeldAfterScan("lru")).toBe(0);
  expect(await hotKeysHeldAfterScan("tinylfu")).toBeGreaterThanOrEqual(8);
}, 30_000);
