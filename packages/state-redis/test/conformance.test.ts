import { StateError } from "@mimic/core";
import { describeStateConformance } from "@mimic/state-test-suite";
import { createCluster } from "redis";
import { RedisState } from "../src/index.js";
import { RELAXED_TIMEOUT_MS, warmSync } from "./helpers.js";
import { freePort, startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from "./harness/index.js";

let server: RedisServerHandle;
let cluster: RedisClusterHandle;
let clusterClient: ReturnType<typeof createCluster>;
let deadPort: number;
let prefixes = 0;
// The contract, not the latency, is under test: a generous timeout keeps 1 MiB values and 50
// concurrent callers inside the budget on a loaded machine. (Anchors use it too: worker connections
// are pooled per target and timeout.)
const timeout = RELAXED_TIMEOUT_MS;
// Long-lived states, as an app would have, that hold the shared sync worker thread and its pooled
// connections for the whole file, so each test's fresh state does not pay for starting and connecting.
let anchors: RedisState[] = [];

beforeAll(async () => {
  [server, cluster, deadPort] = await Promise.all([startRedisServer(), startRedisCluster(3), freePort()]);
  clusterClient = createCluster({ rootNodes: cluster.rootNodes.map(({ url }) => ({ url })) });
  clusterClient.on("error", () => undefined);
  await clusterClient.connect();
  anchors = [
    new RedisState({ url: server.url, prefix: "anchor:", timeout }),
    new RedisState({ client: clusterClient, prefix: "anchor:", timeout }),
  ];
  for (const anchor of anchors) await warmSync(anchor);
}, 60_000);

afterAll(async () => {
  await Promise.all(anchors.map((anchor) => anchor.close()));
  await clusterClient?.close();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

const prefix = (): string => `conformance:${++prefixes}:`;

describeStateConformance({
  name: "RedisState (single server)",
  createState: () => new RedisState({ url: server.url, prefix: prefix(), timeout }),
  createFailingState: () => new RedisState({ url: `redis://127.0.0.1:${deadPort}`, prefix: prefix(), timeout }),
  failureError: StateError,
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, lock: true, getMany: true, setMany: true, fencesWrites: true },
});

describeStateConformance({
  name: "RedisState (3-master cluster)",
  createState: () => new RedisState({ client: clusterClient, prefix: prefix(), timeout }),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, lock: true, getMany: true, setMany: true, fencesWrites: true },
});

// The same contract with the local layer on: a state that serves repeat reads from process memory
// must still answer every read as Redis would after each of its own operations.
describeStateConformance({
  name: "RedisState with the local layer (single server)",
  createState: () => new RedisState({ url: server.url, prefix: prefix(), timeout, local: true }),
  createFailingState: () => new RedisState({ url: `redis://127.0.0.1:${deadPort}`, prefix: prefix(), timeout, local: true }),
  failureError: StateError,
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, lock: true, getMany: true, setMany: true, fencesWrites: true },
});

describeStateConformance({
  name: "RedisState with the local layer (3-master cluster)",
  createState: () => new RedisState({ client: clusterClient, prefix: prefix(), timeout, local: true }),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, lock: true, getMany: true, setMany: true, fencesWrites: true },
});
