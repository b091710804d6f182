import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { RedisState } from "../src/index.js";
import { commandCalls, connectRawClient, freePort, startRedisServer, type RawClient, type RedisServerHandle } from "./harness/index.js";
import { eventually, RELAXED_TIMEOUT_MS } from "./helpers.js";

// The local layer works from the first repeated read: tracking starts when the state connects, and
// ready() says when it holds. Round trips are counted by the server (INFO commandstats).

const run = promisify(execFile);
let server: RedisServerHandle;
let raw: RawClient;

beforeAll(async () => {
  server = await startRedisServer();
  raw = await connectRawClient(server.url);
}, 30_000);

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

/** How many times the server has run `command` since it started. */
async function calls(command: string): Promise<number> {
  return (await commandCalls([raw])).get(command) ?? 0;
}

test("a burst of repeated reads right after `await state.ready()` in a new process makes about one round trip", async () => {
  const writer = new RedisState({ url: server.url, prefix: "ready:", timeout: RELAXED_TIMEOUT_MS });
  await writer.set("m1:a:f|k", "v", 60);
  await writer.close();
  const before = await calls("get");
  const { stdout } = await run(process.execPath, [path.join(__dirname, "fixtures", "ready-burst.mjs"), server.url, "ready:", "m1:a:f|k"], {
    timeout: 30_000,
    killSignal: "SIGKILL",
  });
  const after = await calls("get");
  expect(JSON.parse(stdout.trim())).toEqual({ hits: 2000, tracking: true, entries: 1 });
  // One GET fills the layer; a second may race with the tracking's first invalidation check.
  expect(after - before).toBeGreaterThanOrEqual(1);
  expect(after - before).toBeLessThanOrEqual(2);
});

test("ready() resolves at once with the layer off, and tracking starts with the first operation of any kind", async () => {
  const plain = new RedisState({ url: server.url, prefix: "ready-off:", timeout: RELAXED_TIMEOUT_MS });
  await expect(plain.ready()).resolves.toBeUndefined();
  await plain.close();
  const layered = new RedisState({ url: server.url, prefix: "ready-write:", timeout: RELAXED_TIMEOUT_MS, local: true });
  try {
    // A write, not a read: the layer's tracking starts with it, so the first reads after it can fill.
    await layered.set("m1:a:f|k", 1, 60);
    await eventually(() => layered.localStats()!.tracking, 10_000, "tracking started by a write");
    await layered.ready();
    const before = await calls("get");
    for (let read = 0; read < 200; read++) expect(await layered.get("m1:a:f|k")).toEqual(expect.objectContaining({ value: 1 }));
    expect((await calls("get")) - before).toBeLessThanOrEqual(2);
  } finally {
    await layered.close();
  }
});

test("ready() rejects with a typed error when tracking cannot be established (Redis down); reads reject with typed errors too", async () => {
  const state = new RedisState({ url: `redis://127.0.0.1:${await freePort()}`, prefix: "ready-down:", timeout: 300, local: true });
  try {
    await expect(state.ready()).rejects.toMatchObject({ code: expect.stringMatching(/^MIMIC_/) });
    expect(state.localStats()!.tracking).toBe(false);
    await expect(state.get("m1:a:f|k")).rejects.toMatchObject({ code: "MIMIC_REDIS_UNAVAILABLE" });
  } finally {
    await state.close();
  }
});
