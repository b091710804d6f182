import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startRedisServer, type RedisServerHandle } from "../../../packages/state-redis/test/harness";
import { workerScript } from "./support/children";
import { recordFigures } from "./support/figures";

// Item 7 of the reliability issue: after close() nothing keeps a process alive, and 1,000,000
// distinct memory-state calls stay under the LRU bound in the heap.

let server: RedisServerHandle;
const directories: string[] = [];
const MAX_ENTRIES = 10_000;
const CALLS = 1_000_000;
/** The 1,000,000-call run is CPU work with nothing timed: it runs while the other tests wait on their children. */
let memoryRun: Promise<Run>;
beforeAll(async () => {
  memoryRun = run(["--expose-gc", workerScript("memory-bound.mjs"), JSON.stringify({ calls: CALLS, maxEntries: MAX_ENTRIES })], {}, 170_000);
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function testDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), "mimic-reliability-hygiene-"));
  directories.push(directory);
  return directory;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether the process ended by itself before `timeoutMs` (otherwise it was killed). */
  exitedByItself: boolean;
}

/** Runs a process to its end, killing it if it is still alive after `timeoutMs`. */
function run(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    let exitedByItself = true;
    const timer = setTimeout(() => {
      exitedByItself = false;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, exitedByItself });
    });
  });
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Handles that say nothing about the states: the pipe of the child's own stdout. */
const stdio = new Set(["PipeWrap", "TTYWrap"]);

it("after close() of every state, nothing is left open and the process exits by itself at once", async () => {
  const basePath = testDirectory();
  const result = await run([workerScript("hygiene.mjs"), JSON.stringify({ redisUrl: server.url, basePath })], {}, 60_000);
  const steps = lines(result.stdout);
  const used = steps.find((s) => s.step === "used");
  const closed = steps.find((s) => s.step === "closed");
  const exit = steps.find((s) => s.step === "exit");
  recordFigures("hygiene-process", {
    resourcesAfterClose: closed?.resources,
    exitMsAfterClose: closed && exit ? (exit.at as number) - (closed.at as number) : null,
    errorsReported: used?.reported,
  });
  expect(result.stderr).toBe("");
  expect(result.exitedByItself).toBe(true);
  expect(result.code).toBe(0);
  expect(used?.allRight).toBe(true);
  expect((closed?.resources as string[]).filter((name) => !stdio.has(name))).toEqual([]);
  // A private directory is removed on close; the static one is kept for other processes.
  expect(readdirSync(basePath)).toEqual([expect.stringMatching(/^mimic-cache-/)]);

  // The same process with the Redis state left open (never closed) exits by itself too: a cache never
  // keeps a process alive (its connection is unref'd; only operations in flight hold the loop).
  const leaking = await run([workerScript("hygiene.mjs"), JSON.stringify({ redisUrl: server.url, basePath, leak: true })], {}, 20_000);
  expect(lines(leaking.stdout).find((s) => s.step === "closed")).toBeDefined();
  expect(leaking.exitedByItself).toBe(true);
  expect(leaking.code).toBe(0);
}, 90_000);

it("jest --detectOpenHandles over tests that use and close every state: clean, and jest exits by itself", async () => {
  const basePath = testDirectory();
  // jest's exports map hides its bin: find it from its package.json, as scripts/jest.mjs does.
  const manifest = require.resolve("jest/package.json", { paths: [__dirname] });
  const { bin } = require(manifest) as { bin: string | { jest: string } };
  const jestBin = path.join(path.dirname(manifest), typeof bin === "string" ? bin : bin.jest);
  const fixture = path.resolve(__dirname, "../fixtures/open-handles");
  const result = await run(
    [jestBin, "--config", path.join(fixture, "jest.config.cjs"), "--detectOpenHandles", "--ci"],
    { MIMIC_HYGIENE_REDIS_URL: server.url, MIMIC_HYGIENE_BASE_PATH: basePath, MIMIC_TEST_RESULTS_DIR: "" },
    90_000,
    fixture,
  );
  const output = result.stdout + result.stderr;
  recordFigures("hygiene-jest", { exitedByItself: result.exitedByItself, code: result.code, summary: /Tests:.*/.exec(output)?.[0] });
  expect(output).not.toMatch(/open handle/i);
  expect(output).toMatch(/Tests:\s+3 passed, 3 total/);
  expect(result.exitedByItself).toBe(true);
  expect(result.code).toBe(0);
}, 120_000);

it("1,000,000 distinct memory-state calls: the state never holds more than maxEntries and the heap stops growing", async () => {
  const maxEntries = MAX_ENTRIES;
  const calls = CALLS;
  const result = await memoryRun;
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const report = lines(result.stdout)[0] as {
    executions: number;
    wrong: number;
    recentHit: boolean;
    samples: Array<{ calls: number; size: number; heap: number }>;
  };
  const MiB = 1024 * 1024;
  const first = report.samples[0]!;
  const full = report.samples.find((s) => s.calls >= calls / 4)!;
  const last = report.samples[report.samples.length - 1]!;
  recordFigures("memory-bound", {
    calls,
    maxEntries,
    executions: report.executions,
    maxSize: Math.max(...report.samples.map((s) => s.size)),
    heapMiB: report.samples.map((s) => ({ calls: s.calls, size: s.size, heapMiB: Math.round((s.heap / MiB) * 10) / 10 })),
  });
  expect(report.wrong).toBe(0);
  expect(report.executions).toBe(calls);
  expect(report.recentHit).toBe(true);
  expect(last.calls).toBe(calls);
  for (const sample of report.samples) expect(sample.size).toBeLessThanOrEqual(maxEntries);
  // Unbounded, 1,000,000 entries would take hundreds of MiB. Bounded, the heap holds maxEntries
  // entries (well under 1 KiB each, 20 MiB allowed for them) and does not grow once the state is full.
  expect(last.heap - first.heap).toBeLessThan(20 * MiB);
  expect(last.heap - full.heap).toBeLessThan(4 * MiB);
}, 180_000);
