import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, startRedisServer, type RedisServerHandle } from "./harness/index.js";

const run = promisify(execFile);
const fixture = (name: string): string => path.join(__dirname, "fixtures", name);
// The tests run concurrently (each is mostly a child process starting up): they await the server
// themselves rather than rely on beforeAll.
const serverReady: Promise<RedisServerHandle> = startRedisServer();

afterAll(async () => {
  await (await serverReady).stop();
});

/** Runs a fixture in its own Node process; rejects if it fails or has not exited after `timeoutMs`. */
async function node(script: string, args: string[], timeoutMs = 20_000): Promise<string> {
  const { stdout } = await run(process.execPath, [fixture(script), ...args], { timeout: timeoutMs, killSignal: "SIGKILL" });
  return stdout.trim();
}

describe("two processes share entries", () => {
  test.concurrent.each(["async", "sync"])("a %s function: process A misses and stores, process B hits without calling it", async (kind) => {
    const server = await serverReady;
    const prefix = `share-${kind}:`;
    const first = JSON.parse(await node("share.mjs", [server.url, kind, prefix])) as { result: unknown; calls: number; errors: string[] };
    const second = JSON.parse(await node("share.mjs", [server.url, kind, prefix])) as typeof first;
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
    expect(first.calls).toBe(1);
    expect(second.calls).toBe(0);
    expect(second.result).toEqual(first.result);
    expect(first.result).toEqual({ n: 12, square: 144, when: new Date(0).toISOString(), tags: ["a", "b"] });
  });
});

describe("a process that used the state exits by itself after close()", () => {
  test.concurrent("Redis up (ESM build)", async () => {
    const server = await serverReady;
    expect(await node("exit.mjs", [server.url, "warm"])).toBe("set: ok, get: ok, setSync: ok, getSync: ok, clear: ok");
  });

  test.concurrent("Redis up (CommonJS build)", async () => {
    const server = await serverReady;
    expect(await node("exit.cjs", [server.url])).toBe("set: ok, get: ok, setSync: ok, getSync: ok");
  });

  test.concurrent("Redis down: every operation fails with a typed error, and the process still exits", async () => {
    const output = await node("exit.mjs", [`redis://127.0.0.1:${await freePort()}`]);
    // The first sync call also waits for the worker thread to start: on a loaded machine that can
    // outlast its budget, which is a timeout rather than a refused connection.
    expect(output).toMatch(
      /^set: MIMIC_REDIS_UNAVAILABLE, get: MIMIC_REDIS_UNAVAILABLE, setSync: MIMIC_(REDIS_UNAVAILABLE|STATE_TIMEOUT), getSync: MIMIC_(REDIS_UNAVAILABLE|STATE_TIMEOUT), clear: MIMIC_REDIS_UNAVAILABLE$/,
    );
  });

  test.concurrent("Redis hung (SIGSTOP): operations time out, and the process still exits", async () => {
    const hung = await startRedisServer();
    hung.pause();
    try {
      // Every operation waits out its timeout here: a short one keeps the test short.
      const output = await node("exit.mjs", [hung.url, "cold", "300"]);
      expect(output).toBe(
        "set: MIMIC_STATE_TIMEOUT, get: MIMIC_STATE_TIMEOUT, setSync: MIMIC_STATE_TIMEOUT, " +
          "getSync: MIMIC_STATE_TIMEOUT, clear: MIMIC_STATE_TIMEOUT",
      );
    } finally {
      await hung.stop();
    }
  });
});
