import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { IState, Serializer } from "@mimic/core";
import type { RunSettings } from "./types.js";

/** Thrown by a scenario that cannot run here; the table is printed as skipped with the reason. */
export class SkipScenario extends Error {}

/** A redis-server started for this run on a free port (never the machine's own 6379). */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

interface Harness {
  startRedisServer(options?: { args?: readonly string[] }): Promise<RedisServer>;
}

/** Options of `RedisState` that the benchmarks use. */
export interface RedisStateOptions {
  url: string;
  prefix?: string;
  timeout?: number;
  /** The local layer (scenario 11): a per-process, deserialized copy kept coherent by RESP3 tracking. */
  local?: boolean | { maxEntries?: number; maxBytes?: number; ttl?: number | null };
}

/** Options of `TempFileState` that the benchmarks use. */
export interface TempFileStateOptions {
  basePath?: string;
  static?: boolean;
  serializer?: Serializer;
}

type StateConstructor<Options> = new (options: Options) => IState;

/** The redis-server harness shared with @mimic/state-redis's tests. */
const harnessUrl = new URL("../../packages/state-redis/test/harness/index.ts", import.meta.url);

function shortReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return `not built yet: ${message}`;
  return message;
}

async function loadClass<Options>(specifier: string, exportName: string): Promise<StateConstructor<Options>> {
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new SkipScenario(`${specifier} not available (${shortReason(error)})`);
  }
  const exported = module[exportName];
  if (typeof exported !== "function") {
    throw new SkipScenario(`${specifier} not available (it does not export ${exportName} yet)`);
  }
  return exported as StateConstructor<Options>;
}

/** Shared resources of one run: temp directories, one redis-server, optional packages, cleanup. */
export class RunContext {
  private readonly cleanups: (() => unknown)[] = [];
  private redisServer: Promise<RedisServer> | undefined;
  private tempRoot: string | undefined;

  constructor(readonly settings: RunSettings) {}

  /** Registers a cleanup, run in reverse order by {@link RunContext.close}. */
  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  /** A fresh directory under this run's temp root, removed at the end of the run. */
  tempDir(name: string): string {
    if (this.tempRoot === undefined) {
      const root = mkdtempSync(path.join(tmpdir(), "mimic-bench-"));
      this.tempRoot = root;
      this.defer(() => rmSync(root, { recursive: true, force: true }));
    }
    const dir = mkdtempSync(path.join(this.tempRoot, `${name}-`));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The `RedisState` class, or a skip naming why it cannot be loaded. */
  redisState(): Promise<StateConstructor<RedisStateOptions>> {
    return loadClass<RedisStateOptions>("@mimic/state-redis", "RedisState");
  }

  /** The `TempFileState` class, or a skip naming why it cannot be loaded. */
  tempFileState(): Promise<StateConstructor<TempFileStateOptions>> {
    return loadClass<TempFileStateOptions>("@mimic/state-tempfile", "TempFileState");
  }

  /** One redis-server for the whole run, started on first use by the tests' harness. */
  redis(): Promise<RedisServer> {
    this.redisServer ??= (async () => {
      let harness: Harness;
      try {
        harness = (await import(harnessUrl.href)) as Harness;
      } catch (error) {
        throw new SkipScenario(`the redis-server harness of @mimic/state-redis is not available (${shortReason(error)})`);
      }
      const server = await harness.startRedisServer();
      this.defer(() => server.stop());
      return server;
    })();
    return this.redisServer;
  }

  /** Runs the cleanups; errors are reported, not thrown, so every resource gets its turn. */
  async close(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.cleanups.length = 0;
  }
}
