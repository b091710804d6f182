import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Mime, type IState } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from "../../../packages/state-redis/test/harness";
import { createCluster } from "redis";
import { forkWorker } from "./support/children";

// Batch loads shared across processes (issue 19): items one process's bulk loader wrote are hits for
// another's batches, each item is loaded once however batches overlap, and an invalidation in one
// process reaches the items the others wrote. Real servers (one, and a 3-master cluster with items
// spread over slots), a real directory, real processes.

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
let dir: string;
let runs = 0;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster(3)]);
  dir = mkdtempSync(path.join(tmpdir(), "mimic-batch-processes-"));
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

type Kind = "redis" | "redis-cluster" | "tempfile";
interface Loaded {
  results: Array<{ id: number; by: number }>;
  loaded: number[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe.each(["redis", "redis-cluster", "tempfile"] as Kind[])("%s", (kind) => {
  const where = () => {
    const run = ++runs;
    return {
      kind,
      url: server.url,
      rootNodes: cluster.urls,
      basePath: path.join(dir, `static-${run}`),
      prefix: `batch-processes-${run}:`,
      name: `batch.processes.${run}`,
    };
  };
  const load = async (base: ReturnType<typeof where>, ids: number[], concurrent?: number): Promise<Loaded> => {
    const child = forkWorker("batch-load.mjs", [JSON.stringify({ ...base, ids, ...(concurrent === undefined ? {} : { concurrent }) })]);
    const done = await child.message<Loaded>("done", 30_000);
    await child.exit(10_000);
    return done;
  };
  /** A state on the same storage as the workers', and how to close it (and its cluster client). */
  const stateFor = async (base: ReturnType<typeof where>): Promise<{ state: IState; close(): Promise<void> }> => {
    if (kind === "tempfile") return { state: new TempFileState({ basePath: base.basePath, static: true }), close: async () => undefined };
    if (kind === "redis") {
      const state = new RedisState({ url: server.url, prefix: base.prefix, timeout: 5000 });
      return { state, close: () => state.close() };
    }
    const client = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
    client.on("error", () => undefined);
    await client.connect();
    const state = new RedisState({ client, prefix: base.prefix, timeout: 5000 });
    return {
      state,
      close: async () => {
        await state.close();
        await client.close();
      },
    };
  };

  /** A new prefix's first tagged writes need its tag epoch (state-redis README, deploy note): create it. */
  const createTagEpoch = async (base: ReturnType<typeof where>): Promise<void> => {
    if (kind === "tempfile") return;
    const { state, close } = await stateFor(base);
    await (state as RedisState).invalidateTags(["warm-up"]);
    await close();
  };

  test("items a process's batches wrote are hits in another process; only the rest reach its loader, once", async () => {
    const base = where();
    await createTagEpoch(base);
    const first = await load(base, range(0, 100));
    expect(first.loaded.sort((a, b) => a - b)).toEqual(range(0, 100));
    const second = await load(base, range(50, 150), 3);
    expect(second.loaded.sort((a, b) => a - b)).toEqual(range(100, 150)); // each missing id once, across 3 batches and 100 one() calls
    expect(second.results.map(({ id }) => id)).toEqual(range(50, 150));
    const firstPid = first.results[0]!.by;
    expect(second.results.slice(0, 50).every(({ by }) => by === firstPid)).toBe(true);
  }, 90_000);

  test("an invalidation by tag in this process makes exactly that item load again in another", async () => {
    const base = where();
    await createTagEpoch(base);
    const { state, close } = await stateFor(base);
    await load(base, range(0, 20));
    // The parent invalidates through Mime, as an app would after updating user 7.
    const parent = Mime.batch({ state, name: base.name, ttl: 60, tags: (id: number) => [`user:${id}`] })(async (ids: readonly number[]) =>
      ids.map((id) => ({ id, by: process.pid })),
    );
    await Mime.invalidateTags(["user:7"]);
    const after = await load(base, range(0, 20));
    expect(after.loaded).toEqual([7]);
    await expect(parent.peek(7)).resolves.toEqual({ value: { id: 7, by: after.results[7]!.by } });
    await close();
  }, 90_000);
});
