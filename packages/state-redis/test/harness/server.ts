import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitForPong } from "./ping.js";
import { freePort } from "./ports.js";
import { killAndWait, releaseDirectory, signal, spawnRedisServer, trackDirectory, type ServerProcess } from "./process.js";

/** A redis-server this harness started on a free port of 127.0.0.1, without persistence. */
export interface RedisServerHandle {
  /** The TCP port it listens on; kept across {@link RedisServerHandle.restart}. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Kills the server (SIGKILL after SIGCONT), waits for it to exit and removes its directory. */
  stop(): Promise<void>;
  /** Sends a signal to the running server process (e.g. `SIGKILL` to simulate a crash). */
  kill(signal?: NodeJS.Signals): void;
  /** Starts a fresh, empty server on the same port (after killing the old one if it still runs). */
  restart(): Promise<void>;
  /** `SIGSTOP`: the server keeps its connections open but answers nothing. */
  pause(): void;
  /** `SIGCONT` after {@link RedisServerHandle.pause}. */
  resume(): void;
  /** The server's latest log output, for test failure messages. */
  output(): string;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisServerOptions {
  /** Extra `redis-server` arguments (e.g. `["--maxmemory", "10mb"]`). */
  args?: readonly string[];
  /** How long to wait for the first `PONG`. @default 10000 */
  startTimeoutMs?: number;
}

function serverArgs(port: number, dir: string, extra: readonly string[]): string[] {
  return [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--dir", dir,
    "--daemonize", "no",
    "--protected-mode", "no",
    "--loglevel", "warning",
    ...extra,
  ];
}

async function launch(port: number, dir: string, extra: readonly string[], timeoutMs: number): Promise<ServerProcess> {
  const server = spawnRedisServer(serverArgs(port, dir, extra), dir);
  try {
    await waitForPong(port, timeoutMs, server.isAlive);
  } catch (error) {
    await killAndWait(server);
    throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message}\n${server.output()}`, {
      cause: error,
    });
  }
  return server;
}

/**
 * Starts `redis-server` on a free port with `--save "" --appendonly no` in a new temporary directory,
 * waits until it answers `PING`, and returns a handle to stop, crash, pause or restart it.
 * Never touches a Redis already running on the machine (6379 or any other port).
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServerHandle> {
  const extra = options.args ?? [];
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(path.join(tmpdir(), "mimic-redis-"));
  trackDirectory(dir);
  let port = 0;
  let server: ServerProcess | undefined;
  // The free port can be taken between the probe and redis-server's bind: retry with another one.
  for (let attempt = 1; server === undefined; attempt++) {
    port = await freePort();
    try {
      server = await launch(port, dir, extra, timeoutMs);
    } catch (error) {
      if (attempt >= 3) {
        releaseDirectory(dir);
        throw error;
      }
    }
  }
  let current: ServerProcess = server;
  let stopped = false;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      stopped = true;
      await killAndWait(current);
      releaseDirectory(dir);
    },
    kill(name: NodeJS.Signals = "SIGKILL") {
      signal(current, name);
    },
    async restart() {
      if (stopped) throw new Error(`the redis-server on port ${port} was stopped; start a new one`);
      await killAndWait(current);
      current = await launch(port, dir, extra, timeoutMs);
    },
    pause() {
      signal(current, "SIGSTOP");
    },
    resume() {
      signal(current, "SIGCONT");
    },
    output: () => current.output(),
  };
}
