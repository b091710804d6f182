import { Config, Mime, type MimicError } from "@mimic/core";
import { RedisState } from "../src/index.js";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";

let server: RedisServerHandle;
let state: RedisState;
const errors: MimicError[] = [];
const onError = (error: MimicError): void => {
  errors.push(error);
};

beforeAll(async () => {
  server = await startRedisServer();
  // No call here may fail open because a loaded machine was slow to answer.
  state = new RedisState({ url: server.url, prefix: "mime:", timeout: RELAXED_TIMEOUT_MS });
  await warmSync(state);
});

afterEach(() => {
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await state?.close();
  await Mime.setConfig(new Config());
  await server?.stop();
});

test("an async function: a miss runs it and stores, the next call is a hit", async () => {
  let calls = 0;
  const add = Mime({ ttl: 60, state, name: "add", onError })(async (a: number, b: number) => {
    calls++;
    return a + b;
  });
  expect(await add(1, 2)).toBe(3);
  expect(await add(1, 2)).toBe(3);
  expect(await add(2, 2)).toBe(4);
  expect(calls).toBe(2);
  expect(await state.get(add.key(1, 2))).toEqual({ value: 3 });
});

test("a sync function stays sync on Redis (through the worker thread) and hits", () => {
  let calls = 0;
  const concat = Mime({ ttl: 60, state, name: "concat", onError })(function concat(a: string, b: string): string {
    calls++;
    return a + b;
  });
  expect(concat("a", "b")).toBe("ab");
  expect(concat("a", "b")).toBe("ab");
  expect(calls).toBe(1);
  expect(state.getSync(concat.key("a", "b"))).toEqual({ value: "ab" });
});

test("falsy results, undefined included, are hits", async () => {
  const results = [undefined, null, 0, false, "", Number.NaN] as const;
  let calls = 0;
  const pick = Mime({ ttl: 60, state, name: "pick", onError })(async (index: number) => {
    calls++;
    return results[index];
  });
  for (let index = 0; index < results.length; index++) {
    expect(await pick(index)).toBe(results[index]);
    expect(await pick(index)).toBe(results[index]);
  }
  expect(calls).toBe(results.length);
});

test("entries expire after the ttl", async () => {
  let calls = 0;
  const now = Mime({ ttl: 0.2, state, name: "expiring", onError })(async (tag: string) => {
    calls++;
    return `${tag}:${calls}`;
  });
  expect(await now("x")).toBe("x:1");
  expect(await now("x")).toBe("x:1");
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(await now("x")).toBe("x:2");
});

test("the seed's setup: Mime.setConfig(new Config({ state: RedisState, stateOptions: { url } }))", async () => {
  await Mime.setConfig(new Config({ state: RedisState, stateOptions: { url: server.url, prefix: "seed:", timeout: RELAXED_TIMEOUT_MS }, onError }));
  let calls = 0;
  const cachedCallback = Mime({ ttl: 1 })(function cachedCallback(a: number, b: number): number {
    calls++;
    return a + b;
  });
  // The config's state is new: its first sync call may have to wait for its connection in the worker.
  const created = Mime.getConfig().getState() as RedisState;
  await warmSync(created);
  expect(cachedCallback(1, 2)).toBe(3);
  expect(cachedCallback(1, 2)).toBe(3);
  expect(calls).toBe(1);
  // Replacing the config closes the state it created.
  await Mime.setConfig(new Config());
  await expect(created.get("x")).rejects.toMatchObject({ code: "MIMIC_STATE_CLOSED" });
});
