import { Config, ConfigError, InvalidOptionError, jsonSerializer, type IState } from "@mimic/core";
import { createClient } from "redis";
import { DEFAULT_PREFIX, DEFAULT_TIMEOUT_MS, RedisState, type RedisStateOptions } from "../src/index.js";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS } from "./helpers.js";

let server: RedisServerHandle;
const savedRedisUrl = process.env.REDIS_URL;
const opened: RedisState[] = [];

function open(options?: RedisStateOptions): RedisState {
  const state = new RedisState(options);
  opened.push(state);
  return state;
}

beforeAll(async () => {
  server = await startRedisServer();
});

afterEach(async () => {
  if (savedRedisUrl === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = savedRedisUrl;
  await Promise.all(opened.splice(0).map((state) => state.close()));
});

afterAll(async () => {
  await server?.stop();
});

describe("where Redis is", () => {
  test("with no url, no REDIS_URL and no client, the error names all three ways", () => {
    delete process.env.REDIS_URL;
    let thrown: unknown;
    try {
      new RedisState();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).code).toBe("MIMIC_CONFIG");
    expect((thrown as Error).message).toMatch(/\burl\b/);
    expect((thrown as Error).message).toMatch(/REDIS_URL/);
    expect((thrown as Error).message).toMatch(/\bclient\b/);
  });

  test("an empty REDIS_URL counts as unset", () => {
    process.env.REDIS_URL = "";
    expect(() => new RedisState({})).toThrow(ConfigError);
  });

  test("REDIS_URL is used when neither url nor client is given", async () => {
    process.env.REDIS_URL = server.url;
    const state = open({ prefix: "env:" , timeout: RELAXED_TIMEOUT_MS });
    await state.set("k", "from env", null);
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      expect(await raw.exists("env:k")).toBe(1);
    } finally {
      raw.destroy();
    }
  });

  test("an explicit url wins over REDIS_URL", async () => {
    process.env.REDIS_URL = "redis://127.0.0.1:1";
    const state = open({ url: server.url, prefix: "explicit:" , timeout: RELAXED_TIMEOUT_MS });
    await state.set("k", 1, null);
    expect(await state.get("k")).toEqual({ value: 1 });
  });

  test("an explicit client wins over REDIS_URL", async () => {
    process.env.REDIS_URL = "redis://127.0.0.1:1";
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      const state = open({ client, prefix: "explicit-client:" , timeout: RELAXED_TIMEOUT_MS });
      await state.set("k", 2, null);
      expect(await state.get("k")).toEqual({ value: 2 });
    } finally {
      client.destroy();
    }
  });

  test("url and client together are ambiguous", () => {
    const client = createClient({ url: server.url });
    expect(() => new RedisState({ url: server.url, client })).toThrow(ConfigError);
  });

  test.each([
    ["http://127.0.0.1:6379", /redis:\/\/ or rediss:\/\//],
    ["not a url", /not a valid URL/],
    [42, /must be a string/],
  ])("url %p is rejected, naming it", (url, message) => {
    expect(() => new RedisState({ url } as unknown as RedisStateOptions)).toThrow(InvalidOptionError);
    expect(() => new RedisState({ url } as unknown as RedisStateOptions)).toThrow(message);
  });

  test("a bad REDIS_URL is rejected, naming the variable", () => {
    process.env.REDIS_URL = "http://example.com";
    expect(() => new RedisState()).toThrow(/REDIS_URL/);
  });

  test("a client that is not a node-redis client is rejected", () => {
    expect(() => new RedisState({ client: {} } as unknown as RedisStateOptions)).toThrow(InvalidOptionError);
  });
});

describe("other options", () => {
  test("defaults: prefix mimic:, timeout 200 ms, shared (not local)", () => {
    const state = open({ url: server.url });
    expect(state.prefix).toBe(DEFAULT_PREFIX);
    expect(DEFAULT_PREFIX).toBe("mimic:");
    expect(state.timeout).toBe(DEFAULT_TIMEOUT_MS);
    expect(DEFAULT_TIMEOUT_MS).toBe(200);
    expect((state as IState).local).toBeUndefined();
  });

  test.each([0, -1, 5001, Number.NaN, Infinity, "200"])("timeout %p is rejected", (timeout) => {
    expect(() => new RedisState({ url: server.url, timeout } as unknown as RedisStateOptions)).toThrow(InvalidOptionError);
    expect(() => new RedisState({ url: server.url, timeout } as unknown as RedisStateOptions)).toThrow(/timeout/);
  });

  test("timeout up to 5000 ms is accepted", () => {
    expect(open({ url: server.url, timeout: 5000 }).timeout).toBe(5000);
  });

  test.each(["", 5, "a\ud800"])("prefix %p is rejected", (prefix) => {
    expect(() => new RedisState({ url: server.url, prefix } as unknown as RedisStateOptions)).toThrow(InvalidOptionError);
  });

  test("an unknown option is rejected, naming it", () => {
    expect(() => new RedisState({ url: server.url, URL: "x" } as unknown as RedisStateOptions)).toThrow(/unknown option "URL"/);
  });

  test("a malformed serializer or onError is rejected", () => {
    expect(() => new RedisState({ url: server.url, serializer: {} } as unknown as RedisStateOptions)).toThrow(/serializer/);
    expect(() => new RedisState({ url: server.url, onError: 1 } as unknown as RedisStateOptions)).toThrow(/onError/);
  });

  test("a user's serializer is used (JSON here)", async () => {
    const state = open({ url: server.url, prefix: "json:", serializer: jsonSerializer , timeout: RELAXED_TIMEOUT_MS });
    await state.set("k", { a: [1, "x"] }, null);
    expect(await state.get("k")).toEqual({ value: { a: [1, "x"] } });
    await state.set("u", undefined, null);
    expect(await state.get("u")).toEqual({ value: undefined });
  });
});

describe("through Config", () => {
  test("Config instantiates RedisState lazily with stateOptions", async () => {
    const config = new Config({ state: RedisState, stateOptions: { url: server.url, prefix: "config:", timeout: RELAXED_TIMEOUT_MS } });
    expect(config.hasState).toBe(false);
    const state = config.getState();
    expect(state).toBeInstanceOf(RedisState);
    await state.set("k", 1, null);
    expect(await state.get("k")).toEqual({ value: 1 });
    await config.close();
    await expect(state.get("k")).rejects.toMatchObject({ code: "MIMIC_STATE_CLOSED" });
  });

  test("Config without a way to reach Redis fails on first use with the ConfigError", () => {
    delete process.env.REDIS_URL;
    const config = new Config({ state: RedisState, stateOptions: {} });
    expect(() => config.getState()).toThrow(ConfigError);
  });
});
