import { deserialize, serialize } from "node:v8";
import { createKeyv } from "@keyv/redis";
import type { IState } from "@mimic/core";
import type { LocalLayerStats } from "@mimic/state-redis";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisBusDriver, redisDriver } from "bentocache/drivers/redis";
import { createCache } from "cache-manager";
import { createClient, RESP_TYPES } from "redis";
import { type RedisServer, type RunContext, SkipScenario } from "./context.js";

/**
 * The Redis side of the benchmarks: one server for the run, and each peer set up the way its
 * documentation shows, with its own connection and its own keys.
 */

/** Entries live this long everywhere (no entry expires during a run). */
export const REDIS_TTL_SECONDS = 3_600;

/** A raw node-redis client that returns bulk strings as Buffers (what `v8.deserialize` needs). */
export async function rawRedisClient(context: RunContext, server: RedisServer) {
  const client = createClient({ url: server.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  client.on("error", () => {
    // Reported by the failing command; a listener keeps node-redis from throwing on the emitter.
  });
  await client.connect();
  context.defer(() => client.close());
  return client;
}

export type RawRedisClient = Awaited<ReturnType<typeof rawRedisClient>>;

/** Stores each id's value with `v8.serialize` under `<namespace>:<id>`, for the raw rows to read. */
async function storeRaw<T>(client: RawRedisClient, namespace: string, ids: readonly number[], valueOf: (id: number) => T): Promise<void> {
  for (const id of ids) await client.set(`${namespace}:${id}`, serialize(valueOf(id)), { EX: REDIS_TTL_SECONDS });
}

/** The floor: `GET` + `v8.deserialize` of the same value, stored beforehand with `v8.serialize`. */
export async function rawGetAndDeserialize<T>(
  client: RawRedisClient,
  namespace: string,
  ids: readonly number[],
  valueOf: (id: number) => T,
): Promise<(id: number) => Promise<T>> {
  await storeRaw(client, namespace, ids, valueOf);
  return async (id: number) => {
    const bytes = await client.get(`${namespace}:${id}`);
    if (bytes === null) throw new Error(`raw key ${namespace}:${id} is missing`);
    return deserialize(bytes) as T;
  };
}

/**
 * The ceiling of batching: a hand-written per-tick batcher over the same keys as
 * {@link rawGetAndDeserialize}. The calls of one tick wait for one `MGET` of all their keys, then
 * each deserializes its own record. No cache logic at all (no envelope, ttl check, single-flight or
 * key derivation): what auto-batching alone can gain over 100 pipelined `GET`s.
 */
export async function rawMgetAndDeserialize<T>(
  client: RawRedisClient,
  namespace: string,
  ids: readonly number[],
  valueOf: (id: number) => T,
): Promise<(id: number) => Promise<T>> {
  await storeRaw(client, namespace, ids, valueOf);
  let queued: { key: string; resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const flush = (): void => {
    const batch = queued;
    queued = [];
    client.mGet(batch.map((entry) => entry.key)).then(
      (replies) =>
        batch.forEach((entry, i) => {
          const bytes = replies[i];
          if (bytes === null || bytes === undefined) entry.reject(new Error(`raw key ${entry.key} is missing`));
          else entry.resolve(deserialize(bytes as Buffer) as T);
        }),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  };
  return (id: number) =>
    new Promise<T>((resolve, reject) => {
      if (queued.length === 0) process.nextTick(flush);
      queued.push({ key: `${namespace}:${id}`, resolve, reject });
    });
}

/** A `RedisState` of this run, on its own prefix, closed at the end. */
export async function mimicRedisState(context: RunContext, prefix: string): Promise<IState> {
  const RedisState = await context.redisState();
  const server = await context.redis();
  const state = new RedisState({ url: server.url, prefix: `bench:${prefix}:` });
  context.defer(() => state.close?.());
  return state;
}

/** A `RedisState` with its local layer on. */
export type LocalRedisState = IState & { localStats(): LocalLayerStats | undefined };

/** A `RedisState({ local: true })` of this run, on its own prefix, closed at the end (which also ends its tracking session). */
export async function mimicLocalRedisState(context: RunContext, prefix: string): Promise<LocalRedisState> {
  const RedisState = await context.redisState();
  const server = await context.redis();
  const state = new RedisState({ url: server.url, prefix: `bench:${prefix}:`, local: true });
  context.defer(() => state.close?.());
  return state as LocalRedisState;
}

/** cache-manager 7 with its Keyv Redis store (@keyv/redis), used through `wrap`. */
export function cacheManagerOnRedis(context: RunContext, server: RedisServer, namespace: string) {
  const cache = createCache({ stores: [createKeyv(server.url, { namespace })] });
  context.defer(() => cache.disconnect());
  return <T>(key: string, load: () => Promise<T>): Promise<T> => cache.wrap(key, load, REDIS_TTL_SECONDS * 1000);
}

/** Keyv with @keyv/redis. Keyv has no get-or-set, so this is the get-then-set a Keyv user writes. */
export function keyvOnRedis(context: RunContext, server: RedisServer, namespace: string) {
  const keyv = createKeyv(server.url, { namespace });
  context.defer(() => keyv.disconnect());
  return async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const cached = (await keyv.get(key)) as T | undefined;
    if (cached !== undefined) return cached;
    const value = await load();
    await keyv.set(key, value, REDIS_TTL_SECONDS * 1000);
    return value;
  };
}

/** bentocache with only its Redis driver (L2, no in-memory L1, so a hit is a Redis hit). */
export function bentocacheOnRedis(context: RunContext, server: RedisServer, prefix: string) {
  const bento = new BentoCache({
    default: "redis",
    prefix,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: { host: "127.0.0.1", port: server.port } })) },
  });
  context.defer(() => bento.disconnectAll());
  return <T>(key: string, load: () => Promise<T>): Promise<T> => bento.getOrSet({ key, factory: load, ttl: "1h" });
}

/**
 * bentocache's two-level setup as its multi-tier documentation shows it: an in-memory L1 (LRU) in
 * front of the Redis L2, and the Redis bus that keeps the L1 of every process in sync. `serialize`
 * is the memory driver's option: `true` (its default) stores JSON strings and parses one per hit;
 * `false` keeps the object itself, as Mimic's local layer does.
 */
export function bentocacheTiered(context: RunContext, server: RedisServer, prefix: string, serialize: boolean) {
  const connection = { host: "127.0.0.1", port: server.port };
  const bento = new BentoCache({
    default: "tiered",
    prefix,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 1024, serialize }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
  context.defer(() => bento.disconnectAll());
  return <T>(key: string, load: () => Promise<T>): Promise<T> => bento.getOrSet({ key, factory: load, ttl: "1h" });
}
