import { Mime, type MimicError } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { createCluster } from "redis";

/** Where the cache's errors go: your metrics and logs (a counter per `code` is what to alert on). */
export type Report = (error: MimicError, where: string) => void;

/** One Redis (or a managed endpoint): the state owns its connection. */
export function productionState(url: string, secret: string, report: Report): RedisState {
  return new RedisState({
    url, // rediss://user:password@host:6380 in production: TLS and an ACL user of its own
    prefix: "myapp:cache:", // its own prefix: clear() and the local layer's tracking cover exactly it
    timeout: 200, // ms per round trip, first connection included; a call never waits longer
    secret, // ≥ 16 bytes, the same in every process: entries are signed, forged ones are misses
    local: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ttl: 60 }, // repeat hits from memory
    onError: (error) => report(error, "connection"), // dropped connection / failed reconnects, once per outage
  });
}

/** A Redis Cluster: node-redis routes every key; the state connects the cluster on first use. */
export function clusterState(rootNodes: ReadonlyArray<{ url: string }>, secret: string, report: Report) {
  const cluster = createCluster({ rootNodes: [...rootNodes] });
  cluster.on("error", (error: Error) => report(error as MimicError, "cluster client"));
  const state = new RedisState({ client: cluster, prefix: "myapp:cache:", secret, local: true });
  // The cluster is yours: close the state first, then the cluster.
  return { state, close: async () => (await state.close(), await cluster.close()) };
}

/** Every memoized function reports absorbed errors (the call ran the function instead) here. */
export async function useEverywhere(state: RedisState, report: Report): Promise<void> {
  await Mime.setConfig({ state, onError: (error, context) => report(error, `${context.functionName} ${context.operation}`) });
}
