import { Mime } from "@mimic/core";
import { checksumOf, hitCase } from "../cases.js";
import type { RunContext } from "../context.js";
import { countedLoadUser, record, type RecordValue, serializedSize } from "../data.js";
import { atMost, throughputAtLeast } from "../goals.js";
import { measureCases } from "../measure.js";
import {
  bentocacheOnRedis,
  cacheManagerOnRedis,
  keyvOnRedis,
  mimicRedisState,
  rawGetAndDeserialize,
  rawRedisClient,
  REDIS_TTL_SECONDS,
} from "../redis-peers.js";
import type { Scenario } from "../scenario.js";
import type { Case } from "../types.js";

const RAW = "raw node-redis GET + v8.deserialize";
const MIMIC = "Mimic: Mime({ ttl, state: RedisState, name })(asyncFn)";

type Fn = (id: number) => Promise<RecordValue>;
type GetOrSet = <T>(key: string, load: () => Promise<T>) => Promise<T>;

/** The rows of scenarios 6 and 7: the same peers, driven sequentially or with every call in flight. */
async function redisHitCases(context: RunContext, tag: string, ids: number[], mode: "await" | "inflight"): Promise<Case[]> {
  const state = await mimicRedisState(context, tag);
  const server = await context.redis();
  const raw = await rawRedisClient(context, server);
  const columns = [ids];
  const expected = await checksumOf(countedLoadUser().fn, columns, "id");
  const make = async (name: string, memoized: Fn, executions: () => number, reference = false) =>
    hitCase({ name, reference, memoized, columns, mode, expected, consume: "id", executions });
  const viaGetOrSet = async (name: string, getOrSet: GetOrSet) => {
    const c = countedLoadUser();
    return make(name, (id) => getOrSet(`user:${id}`, () => c.fn(id)), c.executions);
  };
  const mimic = countedLoadUser();
  return [
    await make(RAW, await rawGetAndDeserialize(raw, `raw-${tag}`, ids, record), () => 0, true),
    await make(MIMIC, Mime({ ttl: REDIS_TTL_SECONDS, state, name: `${tag}.loadUser` })(mimic.fn), mimic.executions),
    await viaGetOrSet("cache-manager wrap (Keyv + @keyv/redis)", cacheManagerOnRedis(context, server, `cm-${tag}`)),
    await viaGetOrSet("keyv + @keyv/redis get-then-set", keyvOnRedis(context, server, `keyv-${tag}`)),
    await viaGetOrSet("bentocache getOrSet (redis driver, L2 only)", bentocacheOnRedis(context, server, `bento-${tag}`)),
  ];
}

const sequentialTable = {
  id: "6",
  title: "Redis hit, sequential",
  measures: `one awaited call whose ~${serializedSize(record(1))}-byte record is in Redis (64 distinct ids, one call at a time)`,
};

export const redisSequential: Scenario = {
  id: "6",
  title: sequentialTable.title,
  tables: [sequentialTable],
  async run(context) {
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    const rows = await measureCases(await redisHitCases(context, "s6", ids, "await"), context.settings);
    return [
      {
        ...sequentialTable,
        rows,
        goals: [atMost("(6) ≤ 1.1× raw node-redis GET + deserialize", rows, MIMIC, RAW, 1.1)],
        notes: [
          "redis-server runs on this machine (loopback), started for this run on a free port with --save \"\" --appendonly no.",
          "Each peer uses its own serializer (Mimic and the raw floor: node:v8; Keyv/cache-manager: JSON; bentocache: JSON).",
        ],
      },
    ];
  },
};

const inflightTable = {
  id: "7",
  title: "Redis hits with 100 in flight",
  measures: "one call of a batch of 100 started together (100 distinct ids, all cached in Redis); ops/s is the throughput",
};

export const redisInflight: Scenario = {
  id: "7",
  title: inflightTable.title,
  tables: [inflightTable],
  async run(context) {
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const rows = await measureCases(await redisHitCases(context, "s7", ids, "inflight"), context.settings);
    return [
      {
        ...inflightTable,
        rows,
        // Issue 19's goal: auto-batching (one MGET per tick) takes Mimic to twice the raw pipelined GET loop.
        goals: [throughputAtLeast("(7) throughput ≥ 2× raw node-redis", rows, MIMIC, RAW, 2)],
        notes: [
          "node-redis pipelines the commands issued in the same tick over one connection; so do the peers built on it.",
          "Mimic's RedisState sends the reads of one tick as one MGET (auto-batching); the raw row sends 100 pipelined GETs.",
        ],
      },
    ];
  },
};
