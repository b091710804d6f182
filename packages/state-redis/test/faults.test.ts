import { CorruptEntryError, Mime, StateError, StateTimeoutError, type MimicError } from "@mimic/core";
import { createClient } from "redis";
import { RedisState, RedisUnavailableError } from "../src/index.js";
import { freePort, startRedisServer, type RedisServerHandle } from "./harness/index.js";
import { eventually, FAULT_TIMEOUT_MS, RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

const servers: RedisServerHandle[] = [];
const states: RedisState[] = [];
// Holds the shared sync worker thread across tests (each test's own states close), as a long-lived
// state of an app would.
let anchorServer: RedisServerHandle;
let anchor: RedisState;

beforeAll(async () => {
  anchorServer = await startRedisServer();
  anchor = new RedisState({ url: anchorServer.url, prefix: "anchor:", timeout: RELAXED_TIMEOUT_MS });
  await warmSync(anchor);
});

afterAll(async () => {
  await anchor?.close();
  await anchorServer?.stop();
});

async function setUp(): Promise<{ server: RedisServerHandle; state: RedisState }> {
  const server = await startRedisServer();
  servers.push(server);
  const state = new RedisState({ url: server.url, prefix: "faults:", timeout: FAULT_TIMEOUT_MS });
  states.push(state);
  await warmSync(state);
  return { server, state };
}

afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** An async and a sync memoized function on `state` that count their executions and collect errors. */
function memoized(state: RedisState) {
  const errors: MimicError[] = [];
  const counts = { calls: 0 };
  const onError = (error: MimicError): void => {
    errors.push(error);
  };
  const double = Mime({ ttl: 60, state, name: "double", onError })(async (n: number) => {
    counts.calls++;
    return n * 2;
  });
  const triple = Mime({ ttl: 60, state, name: "triple", onError })(function triple(n: number): number {
    counts.calls++;
    return n * 3;
  });
  /** Whether both functions answer `n` from Redis (their second call does not run them). */
  const hitsResumed = async (n: number): Promise<boolean> => {
    await double(n);
    triple(n);
    const before = counts.calls;
    const results = [await double(n), triple(n)];
    return counts.calls === before && results[0] === n * 2 && results[1] === n * 3;
  };
  return { errors, counts, double, triple, hitsResumed };
}

function expectTyped(errors: MimicError[], allowed: ReadonlyArray<new (...args: never[]) => StateError>): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error).toBeInstanceOf(StateError);
    expect(allowed.some((type) => error instanceof type)).toBe(true);
  }
}

test("server killed mid-run: every call still returns the right value, errors are typed; restarted: hits resume", async () => {
  const { server, state } = await setUp();
  const { errors, double, triple, hitsResumed } = memoized(state);
  for (let round = 0; round < 40; round++) {
    if (round === 15) server.kill("SIGKILL");
    const n = round % 6;
    expect(await double(n)).toBe(n * 2);
    expect(triple(n)).toBe(n * 3);
  }
  expectTyped(errors, [RedisUnavailableError, StateTimeoutError]);
  expect(errors.some((error) => error instanceof RedisUnavailableError)).toBe(true);

  await server.restart();
  await eventually(() => hitsResumed(7), 10_000, "hits after the restart");
});

test("server killed: the state's own operations reject or throw a typed error at once, sync and async", async () => {
  const { server, state } = await setUp();
  await state.set("k", 1, null);
  server.kill("SIGKILL");
  await eventually(async () => (await state.get("k").catch((error: unknown) => error)) instanceof RedisUnavailableError);
  await expect(state.set("k", 2, null)).rejects.toThrow(RedisUnavailableError);
  await expect(state.clear()).rejects.toThrow(RedisUnavailableError);
  await eventually(() => {
    try {
      state.getSync("k");
      return false;
    } catch (error) {
      return error instanceof RedisUnavailableError;
    }
  });
  expect(() => state.setSync("k", 2, null)).toThrow(StateError);
  await expect(state.get("k")).rejects.toThrow(/GET "k"/);
});

test("server paused (SIGSTOP): calls return the right value after the timeout, errors are timeouts; SIGCONT: hits resume", async () => {
  const { server, state } = await setUp();
  const { errors, double, triple, hitsResumed } = memoized(state);
  expect(await double(1)).toBe(2);
  expect(triple(1)).toBe(3);
  server.pause();
  try {
    for (const n of [1, 2, 3]) {
      expect(await double(n)).toBe(n * 2);
      expect(triple(n)).toBe(n * 3);
    }
    expectTyped(errors, [StateTimeoutError]);
    for (const error of errors) expect((error as StateTimeoutError).timeoutMs).toBe(state.timeout);
  } finally {
    server.resume();
  }
  await eventually(() => hitsResumed(4), 10_000, "hits after SIGCONT");
});

test("server paused (SIGSTOP), lock: a miss takes no lease after its read timed out, and returns before its write's timeout", async () => {
  const { server, state } = await setUp();
  const errors: MimicError[] = [];
  const quadruple = Mime({ ttl: 60, state, name: "quadruple", lock: true, onError: (error) => void errors.push(error) })(async (n: number) => n * 4);
  expect(await quadruple(1)).toBe(4);
  server.pause();
  try {
    // Each backend operation waits out its timeout on a paused server: when the call returns, only
    // its read has (no lease was asked for, and its write goes on in the background).
    expect(await quadruple(2)).toBe(8);
    expectTyped(errors, [StateTimeoutError]);
    // (The first call's lease release, sent without waiting, may time out too: only this key's count.)
    const key = JSON.stringify(quadruple.key(2));
    const forThisKey = errors.filter((error) => error.message.includes(key));
    expect(forThisKey.map((error) => error.message.replace(key, "<key>"))).toEqual([`Redis GET <key> did not finish within ${state.timeout} ms`]);
  } finally {
    server.resume();
  }
  await eventually(async () => (await quadruple(3)) === 12, 10_000, "calls after SIGCONT");
});

test("server paused (SIGSTOP), sync Mime.batch: the first failed read ends the batch's use of Redis (one timeout, not two per item)", async () => {
  const { server, state } = await setUp();
  const errors: MimicError[] = [];
  let loaded: number[] = [];
  const squares = Mime.batch({ ttl: 60, state, name: "squares", onError: (error) => void errors.push(error) })((ids: readonly number[]) => {
    loaded = [...ids];
    return ids.map((id) => id * id);
  });
  expect(squares([1, 2])).toEqual([1, 4]);
  server.pause();
  try {
    // Items 1 and 2 are cached, but a paused server answers nothing: every item is loaded, and the
    // batch waits for one read's timeout, then neither reads nor writes the rest.
    expect(squares([1, 2, 3, 4, 5, 6])).toEqual([1, 4, 9, 16, 25, 36]);
    expect(loaded).toEqual([1, 2, 3, 4, 5, 6]);
    expectTyped(errors, [StateTimeoutError]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("GET");
  } finally {
    server.resume();
  }
  await eventually(() => {
    loaded = [];
    return squares([1, 2]).join() === "1,4" && loaded.length === 0;
  }, 10_000, "batch hits after SIGCONT");
});

test("first call while Redis is down: a typed rejection, not a wait for a connection", async () => {
  const state = new RedisState({ url: `redis://127.0.0.1:${await freePort()}`, prefix: "down:", timeout: RELAXED_TIMEOUT_MS });
  states.push(state);
  const first = await state.get("k").catch((error: unknown) => error);
  expect(first).toBeInstanceOf(RedisUnavailableError);
  expect((first as RedisUnavailableError).code).toBe("MIMIC_REDIS_UNAVAILABLE");
  expect((first as Error).message).toMatch(/ECONNREFUSED/);
  expect(() => state.getSync("k")).toThrow(StateError);
});

test("first call while Redis is hung: the connection wait is bounded by the operation timeout", async () => {
  const server = await startRedisServer();
  servers.push(server);
  server.pause();
  try {
    const state = new RedisState({ url: server.url, prefix: "hung:", timeout: 150 });
    states.push(state);
    const first = await state.get("k").catch((error: unknown) => error);
    expect(first).toBeInstanceOf(StateTimeoutError);
    expect((first as StateTimeoutError).timeoutMs).toBe(150);
    expect(() => state.getSync("k")).toThrow(StateTimeoutError);
  } finally {
    server.resume();
  }
});

test("garbage under a key: the call is a miss that runs the function, reports a CorruptEntryError, and overwrites it", async () => {
  const { server, state } = await setUp();
  const { errors, counts, double, triple } = memoized(state);
  const raw = createClient({ url: server.url });
  await raw.connect();
  try {
    await raw.set(state.prefix + double.key(5), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    await raw.set(state.prefix + triple.key(5), "{not v8 at all");
    expect(await double(5)).toBe(10);
    expect(triple(5)).toBe(15);
    expect(counts.calls).toBe(2);
    expectTyped(errors, [CorruptEntryError]);
    expect(errors).toHaveLength(2);
    // Overwritten by the miss: now hits.
    expect(await double(5)).toBe(10);
    expect(triple(5)).toBe(15);
    expect(counts.calls).toBe(2);
  } finally {
    raw.destroy();
  }
});

test("onError hears about the connection dropping once per outage, not once per retry", async () => {
  const server = await startRedisServer();
  servers.push(server);
  const reported: StateError[] = [];
  const state = new RedisState({ url: server.url, prefix: "bg:", timeout: RELAXED_TIMEOUT_MS, onError: (error) => reported.push(error) });
  states.push(state);
  await state.set("k", 1, null);
  server.kill("SIGKILL");
  await eventually(() => reported.length > 0);
  // Reconnect attempts keep failing for a while (backoff up to a second).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(reported).toHaveLength(1);
  expect(reported[0]).toBeInstanceOf(RedisUnavailableError);
  await server.restart();
  await eventually(async () => (await state.get("k").catch(() => "down")) !== "down", 10_000, "reconnection");
});
