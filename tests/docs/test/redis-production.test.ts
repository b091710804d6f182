// docs/redis-in-production.md: the guide's configurations against real redis-servers (started on free
// ports by the state-redis harness), with the maxmemory policy the guide recommends, and its ACL rule.
import { Mime, type MimicError } from "@mimic/core";
import {
  rawCommand,
  startRedisCluster,
  startRedisServer,
  type RedisClusterHandle,
  type RedisServerHandle,
} from "../../../packages/state-redis/test/harness";
import { clusterState, productionState, useEverywhere } from "../snippets/redis-production";
import { readFileSync } from "node:fs";
import path from "node:path";

const SECRET = "a-secret-of-at-least-16-bytes";
const guide = readFileSync(path.resolve(__dirname, "../../../docs/redis-in-production.md"), "utf8");

/**
 * The first connection (a cluster's slot discovery included) must fit in the 200 ms `timeout` of the
 * guide's configuration; on a busy machine it may not, and that call would fail open. Connect first.
 */
async function connected(state: { get(key: string): Promise<unknown> }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await state.get("warm-up");
      return;
    } catch (error) {
      if (attempt === 20) throw error;
    }
  }
}

/** The ACL rule of the guide, with the user and password filled in. */
function aclRule(user: string, password: string): string {
  const rule = /<!-- acl -->\n```sh\n([^\n]+)\n```/.exec(guide)?.[1];
  if (rule === undefined) throw new Error("docs/redis-in-production.md has no <!-- acl --> block");
  return rule.replace(/^redis-cli /, "").replace("<user>", user).replace("<password>", password);
}

describe("docs/redis-in-production.md", () => {
  let server: RedisServerHandle;
  const reports: string[] = [];
  beforeEach(() => (reports.length = 0));
  const report = (error: MimicError, where: string) => reports.push(`${where}: ${error.code ?? ""} ${error.message}`);

  beforeAll(async () => {
    server = await startRedisServer({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"] });
  });
  afterAll(() => server?.stop());
  afterEach(() => Mime.setConfig({}));

  it("the production state works as the ACL user the guide defines, and nothing is reported", async () => {
    expect(await rawCommand(server.port, aclRule("cache", "cache-password"))).toContain("OK");
    const url = server.url.replace("redis://", "redis://cache:cache-password@");
    const state = productionState(url, SECRET, report);
    await connected(state);
    await useEverywhere(state, report);
    let runs = 0;
    const find = Mime({ ttl: 60, name: "find", tags: (id: string) => [`user:${id}`], lock: true })(async (id: string) => ({
      id,
      run: ++runs,
    }));
    const add = Mime({ ttl: 60, name: "add" })((a: number, b: number) => {
      runs++;
      return a + b;
    });
    // Sync first: a sync call blocks this thread (the first one while the worker thread starts), so
    // an async operation still in flight then (a lock's release) could overrun its timeout.
    expect(add(1, 2)).toBe(3); // a sync function: the worker thread's connection, same user
    expect(add(1, 2)).toBe(3);
    await Mime.invalidateTags(["deploy"]); // the guide's deploy step: creates the tag epoch
    await find("1");
    expect(await find("1")).toEqual({ id: "1", run: 2 });
    await Mime.invalidateTags(["user:1"]);
    expect(await find("1")).toEqual({ id: "1", run: 3 });
    await find.clear();
    await state.clear();
    await state.close();
    expect(reports).toEqual([]);
    expect(runs).toBe(3);
  });

  it("the local layer's tracking comes up as that user", async () => {
    const url = server.url.replace("redis://", "redis://cache:cache-password@");
    const state = productionState(url, SECRET, report);
    const get = Mime({ ttl: 60, state, name: "get", onError: (error) => report(error, "get") })(async (id: string) => id);
    for (let i = 0; i < 50 && state.localStats()?.tracking !== true; i++) {
      await get(String(i));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state.localStats()?.tracking).toBe(true);
    await state.close();
    expect(reports).toEqual([]);
  });

  describe("on a cluster", () => {
    let cluster: RedisClusterHandle;
    beforeAll(async () => {
      cluster = await startRedisCluster();
    }, 60_000);
    afterAll(() => cluster?.stop());

    it("the cluster state serves hits and tags across slots", async () => {
      const { state, close } = clusterState(cluster.rootNodes, SECRET, report);
      await connected(state);
      await useEverywhere(state, report);
      let runs = 0;
      const find = Mime({ ttl: 60, state, name: "find", tags: () => ["users"] })(async (id: string) => `${id}:${++runs}`);
      // A new prefix has no tag epoch yet; the guide's deploy step (one invalidation) creates it, so
      // that the very first tagged write is stored too.
      await Mime.invalidateTags(["deploy"]);
      const ids = ["a", "b", "c", "d", "e", "f"];
      for (const id of ids) await find(id);
      for (const id of ids) await find(id);
      expect(runs).toBe(ids.length);
      await Mime.invalidateTags(["users"]);
      await find("a");
      expect(runs).toBe(ids.length + 1);
      await state.clear();
      await close();
      expect(reports).toEqual([]);
    });
  });
});
