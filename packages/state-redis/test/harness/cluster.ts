import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { rawCommand, waitForPong } from "./ping.js";
import { freePort } from "./ports.js";
import { killAndWait, redisCliBin, releaseDirectory, spawnRedisServer, trackDirectory, type ServerProcess } from "./process.js";

const run = promisify(execFile);

/** A Redis Cluster of masters only, started by {@link startRedisCluster}. */
export interface RedisClusterHandle {
  /** One `{ url }` per master, ready for node-redis `createCluster({ rootNodes })`. */
  readonly rootNodes: ReadonlyArray<{ url: string }>;
  /** The masters' URLs, `redis://127.0.0.1:<port>`. */
  readonly urls: readonly string[];
  /** The masters' ports. */
  readonly ports: readonly number[];
  /** Kills every node and removes their directories. */
  stop(): Promise<void>;
}

async function clusterIsOk(port: number): Promise<boolean> {
  try {
    return (await rawCommand(port, "CLUSTER INFO")).includes("cluster_state:ok");
  } catch {
    return false;
  }
}

/**
 * Starts `masters` (at least 3, as `redis-cli --cluster create` requires) `redis-server --cluster-enabled yes`
 * nodes on free ports, joins them with `redis-cli --cluster create … --cluster-yes`, and waits until
 * every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  if (!Number.isInteger(masters) || masters < 3) {
    throw new RangeError(`a Redis Cluster needs at least 3 masters, got ${masters}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "mimic-redis-cluster-"));
  trackDirectory(dir);
  const nodes: ServerProcess[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => killAndWait(node)));
    releaseDirectory(dir);
  };
  try {
    for (let index = 0; index < masters; index++) {
      const port = await freePort();
      // The cluster bus gets its own free port rather than the default port + 10000, which may be taken
      // or above 65535.
      const busPort = await freePort();
      const nodeDir = path.join(dir, String(port));
      mkdirSync(nodeDir);
      const node = spawnRedisServer(
        [
          "--port", String(port),
          "--bind", "127.0.0.1",
          "--save", "",
          "--appendonly", "no",
          "--dir", nodeDir,
          "--daemonize", "no",
          "--protected-mode", "no",
          "--loglevel", "warning",
          "--cluster-enabled", "yes",
          "--cluster-config-file", `nodes-${port}.conf`,
          "--cluster-node-timeout", "2000",
          "--cluster-port", String(busPort),
        ],
        nodeDir,
      );
      nodes.push(node);
      ports.push(port);
      await waitForPong(port, 10_000, node.isAlive);
    }
    await run(
      redisCliBin,
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      while (!(await clusterIsOk(port))) {
        if (Date.now() > deadline) throw new Error(`the cluster node on port ${port} never reported cluster_state:ok`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    const output = nodes.map((node) => node.output()).join("\n");
    await stop();
    throw new Error(`could not start a ${masters}-master Redis Cluster: ${(error as Error).message}\n${output}`, {
      cause: error,
    });
  }
  const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
  return { rootNodes: urls.map((url) => ({ url })), urls, ports, stop };
}
