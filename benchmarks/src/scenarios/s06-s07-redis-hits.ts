import { Mime } from "@mimic/core";
import { checksumOf, hitCase } from "../cases.js";
import type { RunContext } from "../context.js";
import { countedLoadUser, record, type RecordValue, serializedSize } from "../data.js";
import { atMost, rowNamed, throughputAtLeast } from "../goals.js";
import { measureCases } from "../measure.js";
import {
  bentocacheOnRedis,
  cacheManagerOnRedis,
  keyvOnRedis,
  mimicRedisState,
  rawGetAndDeserialize,
  rawMgetAndDeserialize,
  rawRedisClient,
  REDIS_TTL_SECONDS,
} from "../redis-peers.js";
import type { Scenario } from "../scenario.js";
import type { Case, Row } from "../types.js";

const RAW = "raw node-redis GET + v8.deserialize";
const MIMIC = "Mimic: Mime({ ttl, state: RedisState, name })(asyncFn)";
const BATCHED_FLOOR = "hand-written batcher: one MGET per tick + v8.deserialize (no cache logic)";

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
  // Sequentially each call is its own tick, so the batcher is only a floor worth showing with calls in flight.
  const batchedFloor =
    mode === "inflight" ? [await make(BATCHED_FLOOR, await rawMgetAndDeserialize(raw, `raw-mget-${tag}`, ids, record), () => 0)] : [];
  return [
    await make(RAW, await rawGetAndDeserialize(raw, `raw-${tag}`, ids, record), () => 0, true),
    ...batchedFloor,
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

/** How far batching alone gets: the hand-written MGET batcher's throughput against the raw row's. */
function ceilingNote(rows: readonly Row[]): string {
  const floor = rowNamed(rows, BATCHED_FLOOR);
  const raw = rowNamed(rows, RAW);
  if (floor === undefined || raw === undefined) return "The batching ceiling row is missing.";
  return `The ceiling of batching in this run: "${BATCHED_FLOOR}" reaches ${(raw.medianNs / floor.medianNs).toFixed(2)}× raw's throughput (the goal asks 2× of Mimic, which does more than it).`;
}

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
          ceilingNote(rows),
          `"${BATCHED_FLOOR}" is what batching alone can reach: the same keys and records, one MGET for the 100 calls of a tick, and no envelope, ttl check, key derivation or single-flight. Mimic cannot be faster than it; if it is under 2× raw, the goal is out of reach of any memoizer that batches its reads.`,
          "node-redis pipelines the commands issued in the same tick over one connection; so do the peers built on it.",
          "Mimic's RedisState sends the reads of one tick as one MGET (auto-batching); the raw row sends 100 pipelined GETs.",
        ],
      },
    ];
  },
};
