import { execFile, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { KEY_FORMAT_VERSION } from "@mimic/core";
import { createClient } from "redis";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";

// Several processes coordinating through one Redis: tags invalidated from another process, the
// cross-process lock (issue 9), stale windows written by one process and served by another.
const run = promisify(execFile);
const fixture = (name: string): string => path.join(__dirname, "fixtures", name);
// The tests run concurrently (each is mostly child processes starting up), so they await the server
// themselves rather than rely on beforeAll.
const ready: Promise<{ server: RedisServerHandle; raw: ReturnType<typeof createClient> }> = (async () => {
  const server = await startRedisServer();
  const raw = createClient({ url: server.url });
  await raw.connect();
  return { server, raw };
})();
let prefixes = 0;
const nextPrefix = (name: string): string => `coord-${name}-${++prefixes}:`;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  const { server, raw } = await ready;
  raw.destroy();
  await server.stop();
});

/** Runs a fixture to its end and parses the JSON on its last line. */
async function node<T>(script: string, args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [fixture(script), ...args], { timeout: 30_000, killSignal: "SIGKILL" });
  return JSON.parse(stdout.trim().split("\n").pop()!) as T;
}

interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(line: string): Promise<void>;
}

function startChild(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [fixture(script), ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let end: number;
    while ((end = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.line === line)) waiter.resolve();
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    lines,
    exited,
    waitFor: (line) =>
      lines.includes(line) ? Promise.resolve() : new Promise((resolve) => waiters.push({ line, resolve })),
  };
}

interface LockOutput {
  fulfilled: number;
  failed: number;
  failures: string[];
  distinct: string[];
  finishedAt: number;
  errors: string[];
}

const lastJson = <T>(child: Child): T => JSON.parse(child.lines[child.lines.length - 1]!) as T;

describe("tags across processes", () => {
  test.concurrent("Mime.invalidateTags in process B removes what process A cached under the tag (two functions), and nothing else", async () => {
    const { server, raw } = await ready;
    const prefix = nextPrefix("tags");
    type Called = { ran: number; results: unknown[]; errors: string[] };
    // A brand-new prefix has no tag epoch yet, and the first tagged write of an execution that began
    // before the epoch exists is not stored (README: "Operations"); an invalidation creates it.
    expect(await node("tags.mjs", [server.url, prefix, "invalidate"])).toEqual({ invalidated: true, errors: [] });
    const first = await node<Called>("tags.mjs", [server.url, prefix, "call"]);
    expect(first).toEqual({ ran: 3, results: [{ id: 7 }, "profile 7", 7], errors: [] });
    // Three entries are in Redis (checked with a raw client rather than one more process).
    expect(await raw.keys(`${prefix}m${KEY_FORMAT_VERSION}:*`)).toHaveLength(3);
    expect(await node("tags.mjs", [server.url, prefix, "invalidate"])).toEqual({ invalidated: true, errors: [] });
    // Both "users" functions run again; the "other" one is still a hit.
    expect(await node<Called>("tags.mjs", [server.url, prefix, "call"])).toEqual({ ran: 2, results: [{ id: 7 }, "profile 7", 7], errors: [] });
  });
});

describe("Mime({ lock }) across processes (issue 9)", () => {
  async function race(count: number, config: Record<string, unknown>): Promise<Child[]> {
    const { server } = await ready;
    const children = Array.from({ length: count }, () => startChild("lock.mjs", [JSON.stringify({ url: server.url, ...config })]));
    await Promise.all(children.map((child) => child.waitFor("ready")));
    for (const child of children) child.process.stdin!.end("go\n");
    return children;
  }

  test.concurrent("4 processes × 100 concurrent calls of a cold key: exactly 1 execution in total, every call gets its value", async () => {
    const { raw } = await ready;
    const prefix = nextPrefix("lock");
    const children = await race(4, { prefix, concurrency: 100, functionMs: 500, lease: 10, timeout: 30 });
    await Promise.all(children.map((child) => child.exited));
    expect(await raw.get(`${prefix}counter:start`)).toBe("1");
    expect(await raw.get(`${prefix}counter:end`)).toBe("1");
    const outputs = children.map((child) => lastJson<LockOutput>(child));
    for (const output of outputs) expect(output).toMatchObject({ fulfilled: 100, failed: 0, errors: [] });
    expect(new Set(outputs.flatMap((output) => output.distinct)).size).toBe(1);
  }, 60_000);

  test.concurrent("the holder SIGKILLed mid-execution: another process takes over after the lease and completes, 0 failed calls", async () => {
    const { raw } = await ready;
    const prefix = nextPrefix("lock-kill");
    const lease = 1;
    const functionMs = 300;
    const timeout = 30;
    const children = await race(3, { prefix, concurrency: 20, functionMs, lease, timeout, hangFirst: true });
    const holder = await Promise.any(children.map((child) => child.waitFor("running").then(() => child)));
    holder.process.kill("SIGKILL");
    const killedAt = Date.now();
    const exits = await Promise.all(children.map((child) => child.exited));
    expect(exits[children.indexOf(holder)]!.signal).toBe("SIGKILL");
    const survivors = children.filter((child) => child !== holder).map((child) => lastJson<LockOutput>(child));
    for (const output of survivors) expect(output).toMatchObject({ fulfilled: 20, failed: 0 });
    expect(new Set(survivors.flatMap((output) => output.distinct)).size).toBe(1);
    // The holder started and never ended; exactly one survivor ran the function after it.
    expect(await raw.get(`${prefix}counter:start`)).toBe("2");
    expect(await raw.get(`${prefix}counter:end`)).toBe("1");
    // Taken over when the lease expired, not after giving up waiting (the lock timeout): expected about
    // lease + function time (1.3 s); the bound is loose for a loaded machine, far below the timeout.
    const completedAfterKill = Math.max(...survivors.map((output) => output.finishedAt)) - killedAt;
    expect(completedAfterKill).toBeLessThan((timeout * 1000) / 3);
  }, 60_000);
});

describe("stale windows across two processes (ttl 0.5 s, window 30 s; the windows are core's, the entries Redis's)", () => {
  type StaleOutput = Record<"sync" | "async", { first: unknown; second?: unknown; calls: number; errors: string[]; stale: number }>;
  const step = async (config: Record<string, unknown>): Promise<StaleOutput> =>
    node<StaleOutput>("stale.mjs", [JSON.stringify({ url: (await ready).server.url, ...config })]);

  test.concurrent("staleWhileRevalidate: process B gets A's stale value at once, refreshes it, then serves the new one", async () => {
    const prefix = nextPrefix("swr");
    const seeded = await step({ prefix, window: "swr", step: "seed", value: "v1" });
    await pause(700);
    const stale = await step({ prefix, window: "swr", step: "stale", value: "v2" });
    for (const kind of ["sync", "async"] as const) {
      expect(seeded[kind]).toMatchObject({ first: "v1", calls: 1, errors: [] });
      expect(stale[kind]).toMatchObject({ first: "v1", errors: [] });
      expect(stale[kind].stale).toBeGreaterThanOrEqual(1);
    }
    expect(stale.sync).toMatchObject({ second: "v2", calls: 1 });
    expect(stale.async).toMatchObject({ second: "v2", calls: 1 });
  }, 60_000);

  test.concurrent("staleIfError: process B's function throws; the value A wrote is returned and the error reported", async () => {
    const prefix = nextPrefix("sie");
    await step({ prefix, window: "sie", step: "seed", value: "v1" });
    await pause(700);
    const failing = await step({ prefix, window: "sie", step: "stale", throws: true });
    for (const kind of ["sync", "async"] as const) {
      expect(failing[kind]).toMatchObject({ first: "v1", calls: 1, errors: ["MIMIC_STALE_FALLBACK"], stale: 1 });
    }
  }, 60_000);
});
