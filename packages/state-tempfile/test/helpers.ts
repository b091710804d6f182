import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const packageRoot = join(__dirname, "..");

/** A fresh real directory for one test; {@link removeTestDirectories} deletes them all. */
const created: string[] = [];
export function testDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "mimic-tempfile-test-"));
  created.push(directory);
  return directory;
}

/** Removes every directory {@link testDirectory} made (call it in `afterEach`). */
export function removeTestDirectories(): void {
  for (const directory of created.splice(0)) rmSync(directory, { recursive: true, force: true });
}

/** A base path under a regular file: every operation of a state there fails with ENOTDIR, for real. */
export function brokenBasePath(): string {
  const file = join(testDirectory(), "a-file");
  writeFileSync(file, "");
  return join(file, "cache");
}

/** Every file under `directory`, as paths relative to it. */
export function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return (readdirSync(directory, { recursive: true }) as string[])
    .filter((name) => statSync(join(directory, name)).isFile())
    .sort();
}

/** Entry files (64 hex digits) under `directory`. */
export function entryFiles(directory: string): string[] {
  return filesUnder(directory).filter((name) => /(^|\/)[0-9a-f]{64}$/.test(name));
}

/** Temporary files under `directory`. */
export function tempFiles(directory: string): string[] {
  return filesUnder(directory).filter((name) => name.endsWith(".tmp"));
}

/** A child's outcome. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Path of a child script in test/fixtures. The children import the *built* packages (a child process
 * cannot use jest's TypeScript transform), so `pnpm build` must have run; turbo's test task does that.
 */
export function fixture(name: string): string {
  for (const built of [join(packageRoot, "dist/index.mjs"), join(packageRoot, "../core/dist/index.mjs")]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run "pnpm build" before these tests`);
  }
  return join(packageRoot, "test/fixtures", name);
}

/** Starts `node <fixture> ...args` with piped output (and a piped stdin when asked). */
export function startChild(name: string, args: readonly string[], options: { stdin?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, [fixture(name), ...args], { stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
}

/** Collects a child's output until it exits. */
export function waitForExit(child: ChildProcess): Promise<ChildResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a fixture to completion. */
export function runChild(name: string, args: readonly string[]): Promise<ChildResult> {
  return waitForExit(startChild(name, args));
}

/** The last line of a child's output, parsed as JSON; fails with the child's stderr otherwise. */
export function lastJson<T>(result: ChildResult): T {
  const lines = result.stdout.trim().split("\n");
  try {
    return JSON.parse(lines[lines.length - 1] ?? "") as T;
  } catch {
    throw new Error(`child exited with ${result.code ?? result.signal}; stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Resolves once `child` has printed `marker` on stdout. */
export function waitForOutput(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("utf8");
      if (seen.includes(marker)) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code, signal) => reject(new Error(`child exited (${code ?? signal}) before printing ${marker}`)));
  });
}

/** The value a process stores under `key` in the multi-process tests: it encodes its key. */
export function valueFor(key: string, round: number, size: number): { key: string; round: number; data: string } {
  const unit = `${key}/${round};`;
  return { key, round, data: unit.repeat(Math.max(1, Math.ceil(size / unit.length))) };
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pid of a process that has exited (and been reaped). */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}
