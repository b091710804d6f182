import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { createClient } from "redis";
import { startRedisServer, type RedisServerHandle } from "./harness/index.js";

// A script that memoizes on RedisState and never calls close() exits by itself once its work is
// done: the state's sockets, worker thread and timers never keep it alive while idle (also while
// Redis is down and the client would reconnect forever). Real child processes, real servers.

/** Far above how long any of these scripts needs; a script still running then is a failure. */
const EXIT_BOUND_MS = 20_000;

interface Run {
  /** Resolves with the script's exit code and output once it exits; `timedOut` if it had to be killed. */
  readonly exited: Promise<{ readonly code: number | null; readonly timedOut: boolean; readonly lines: string[]; readonly stderr: string }>;
  /** Resolves when the script prints `line`. */
  printed(line: string): Promise<void>;
}

function runScript(url: string, mode: string, prefix: string): Run {
  const child = spawn(process.execPath, [path.join(__dirname, "fixtures", "no-close.mjs"), url, mode, prefix], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (text) => {
    lines.push(text);
    for (const waiter of waiters) if (text === waiter.line) waiter.resolve();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, EXIT_BOUND_MS);
  const exited = new Promise<{ code: number | null; timedOut: boolean; lines: string[]; stderr: string }>((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, lines, stderr });
    });
  });
  return {
    exited,
    printed: (line) =>
      new Promise<void>((resolve, reject) => {
        if (lines.includes(line)) return resolve();
        waiters.push({ line, resolve });
        void exited.then(() => reject(new Error(`the script exited without printing "${line}": ${lines.join(" / ")} ${stderr}`)));
      }),
  };
}

let server: RedisServerHandle;

beforeAll(async () => {
  server = await startRedisServer();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

describe("a script that never calls close() exits by itself when its work is done", () => {
  test.concurrent.each([
    ["Redis up, async calls", "up"],
    ["with the local layer (tracking connection open)", "local"],
    ["after synchronous calls (worker thread started)", "sync"],
  ])("%s", async (_what, mode) => {
    const outcome = await runScript(server.url, mode, `exit-${mode}:`).exited;
    expect(outcome).toMatchObject({ timedOut: false, code: 0 });
    expect(outcome.lines.at(-1)).toMatch(/^done: 0,1,4/);
    expect(outcome.lines.at(-1)).toMatch(/errors=none$/);
  });

  test("and its background write in flight at exit is stored whole", async () => {
    const outcome = await runScript(server.url, "up", "exit-write:").exited;
    expect(outcome).toMatchObject({ timedOut: false, code: 0 });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      const keys = await raw.keys("exit-write:*");
      // square(0..2) and square(100): every write landed, none was cut.
      expect(keys.filter((key) => key.startsWith("exit-write:")).length).toBe(4);
    } finally {
      await raw.close();
    }
  });

  test("Redis killed while the script runs: it still exits (the client stops reconnecting when idle)", async () => {
    const doomed = await startRedisServer();
    try {
      const run = runScript(doomed.url, "down", "exit-down:");
      await run.printed("working");
      doomed.kill("SIGKILL");
      const outcome = await run.exited;
      expect(outcome).toMatchObject({ timedOut: false, code: 0 });
      expect(outcome.lines.at(-1)).toMatch(/^done: 0,1,4,49 calls=4 errors=.*MIMIC_REDIS_UNAVAILABLE/);
    } finally {
      await doomed.stop();
    }
  });
});
