import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/** Every redis-server this process started and has not stopped; killed if the test process exits first. */
const live = new Set<ChildProcess>();
/** Temporary directories of servers not stopped yet; removed at exit too. */
const directories = new Set<string>();
let exitHookInstalled = false;

/** Removes `dir` at process exit unless {@link releaseDirectory} was called first. */
export function trackDirectory(dir: string): void {
  installExitHook();
  directories.add(dir);
}

/** Removes `dir` now and forgets it. */
export function releaseDirectory(dir: string): void {
  directories.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave servers behind on the machine.
  process.once("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}

/** The `redis-server` binary; `REDIS_SERVER_BIN` overrides the one on `PATH`. */
export const redisServerBin = process.env.REDIS_SERVER_BIN || "redis-server";
/** The `redis-cli` binary; `REDIS_CLI_BIN` overrides the one on `PATH`. */
export const redisCliBin = process.env.REDIS_CLI_BIN || "redis-cli";

/** A started redis-server process with the tail of its output kept for error messages. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  isAlive(): boolean;
  output(): string;
}

/** Spawns `redis-server` with `args`; the process is not waited for. */
export function spawnRedisServer(args: readonly string[], cwd: string): ServerProcess {
  installExitHook();
  const child = spawn(redisServerBin, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // The output pipes must not keep the test process alive on their own.
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  let alive = true;
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    const done = (): void => {
      alive = false;
      live.delete(child);
      resolve();
    };
    child.once("exit", done);
    child.once("error", (error) => {
      tail += `\nspawn error: ${error.message}`;
      done();
    });
  });
  return { child, exited, isAlive: () => alive, output: () => tail };
}

/** Sends `signal` unless the process is gone. */
export function signal(server: ServerProcess, name: NodeJS.Signals): void {
  if (server.isAlive()) server.child.kill(name);
}

/** SIGKILLs the process (after SIGCONT, in case it is stopped) and waits for it to exit. */
export async function killAndWait(server: ServerProcess, timeoutMs = 5000): Promise<void> {
  if (!server.isAlive()) return;
  signal(server, "SIGCONT");
  signal(server, "SIGKILL");
  await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
