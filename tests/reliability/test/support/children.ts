import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../../..");

/**
 * The worker scripts import the *built* packages (a child process has no jest transform), so the
 * packages must have been built; turbo's test task builds them first.
 */
export function workerScript(name: string): string {
  for (const pkg of ["core", "state-redis", "state-tempfile"]) {
    const built = path.join(root, "packages", pkg, "dist/index.mjs");
    if (!existsSync(built)) throw new Error(`${built} is missing: run "pnpm build" before these tests`);
  }
  return path.resolve(__dirname, "../../workers", name);
}

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A forked worker with IPC, its output kept for failure messages. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first IPC message of `type`. */
  message<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  send(message: unknown): void;
  readonly exited: Promise<Exit>;
  /** Resolves when the child exits, or rejects after `timeoutMs` (the child is then killed). */
  exit(timeoutMs: number): Promise<Exit>;
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Forks `workers/<name>` with `args`; stdout and stderr are collected, never inherited. */
export function forkWorker(name: string, args: readonly string[], execArgv: readonly string[] = []): Child {
  const child = fork(workerScript(name), [...args], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    execArgv: [...execArgv],
  });
  live.add(child);
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  child.on("message", (message) => {
    messages.push(message as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const describe = (): string => `worker ${name} (pid ${child.pid})`;
  return {
    process: child,
    async message<T>(type: string, timeoutMs = 60_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((m) => m.type === type);
        if (found) return found as T;
        if (done) throw new Error(`${describe()} exited before sending "${type}":\n${tail}`);
        if (Date.now() > deadline) throw new Error(`${describe()} sent no "${type}" within ${timeoutMs} ms:\n${tail}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    send(message: unknown) {
      child.send(message as object);
    },
    exited,
    async exit(timeoutMs: number): Promise<Exit> {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        child.kill("SIGKILL");
        await exited;
        throw new Error(`${describe()} did not exit by itself within ${timeoutMs} ms:\n${tail}`);
      }
      return outcome;
    },
    output: () => tail,
    kill(signal: NodeJS.Signals = "SIGKILL") {
      if (!done) child.kill(signal);
    },
  };
}

/** Milliseconds since the epoch, sub-millisecond, comparable with the workers' clocks. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Sleeps until the epoch time `at`. */
export async function sleepUntil(at: number): Promise<void> {
  const wait = at - epochNow();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
