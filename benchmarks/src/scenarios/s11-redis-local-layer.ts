import type { LocalLayerStats } from "@mimic/state-redis";
import { setTimeout as delay } from "node:timers/promises";
import { MemoryState, Mime } from "@mimic/core";
import { checksumOf, hitCase } from "../cases.js";
import type { RunContext } from "../context.js";
import { countedLoadUser, countedLoadUserSync, record, type RecordValue, serializedSize } from "../data.js";
import { atMost, throughputAtLeast } from "../goals.js";
import { measureCases } from "../measure.js";
import {
  bentocacheTiered,
  type LocalRedisState,
  mimicLocalRedisState,
  mimicRedisState,
  rawGetAndDeserialize,
  rawRedisClient,
  REDIS_TTL_SECONDS,
} from "../redis-peers.js";
import type { Scenario } from "../scenario.js";
import type { Case } from "../types.js";

const MEMORY = "Mimic: Mime({ ttl, state: MemoryState, name })(asyncFn)";
const LOCAL = "Mimic: Mime({ ttl, state: RedisState({ local: true }), name })(asyncFn)";
const NETWORK = "Mimic: Mime({ ttl, state: RedisState, name })(asyncFn) (no local layer)";
const RAW = "raw node-redis GET + v8.deserialize";
const BENTO = "bentocache getOrSet (memory L1 + redis L2 + redis bus)";
const BENTO_OBJECTS = "bentocache getOrSet (same, L1 serialize: false)";
const SYNC_MEMORY = "Mimic sync: Mime({ ttl, state: MemoryState, name })(syncFn)";
const SYNC_LOCAL = "Mimic sync: Mime({ ttl, state: RedisState({ local: true }), name })(syncFn)";

/** How long the local layer's tracking may take to come on after the first reads before the run fails. */
const TRACKING_TIMEOUT_MS = 10_000;
/** Rounds of reads, once tracking holds, that must fill the local layer with every id. */
const FILL_ROUNDS = 3;

type Fn = (id: number) => Promise<RecordValue>;
type GetOrSet = <T>(key: string, load: () => Promise<T>) => Promise<T>;

/** How the local layer of one state was filled, and what it held after measuring. */
interface LocalFill {
  readonly label: string;
  readonly state: LocalRedisState;
  readonly ids: number;
  /** Milliseconds from the state's first call until `localStats().tracking` was seen. */
  readonly trackingAfterMs: number;
  readonly rounds: number;
  readonly before: LocalLayerStats;
}

function statsOf(state: LocalRedisState, label: string): LocalLayerStats {
  const stats = state.localStats();
  if (stats === undefined) throw new Error(`${label}: RedisState({ local: true }).localStats() returned undefined (the layer is off)`);
  return stats;
}

/**
 * Fills a local layer the way it fills in production: a first round of calls (misses: run and store;
 * the first read starts the tracking session), then, once `localStats().tracking` holds, rounds of
 * calls that read every entry from Redis with tracking on, until the layer holds every id. Fails
 * loudly when tracking does not come on or the layer does not fill, rather than measuring Redis hits
 * under the local layer's name.
 */
async function fillLocalLayer(label: string, state: LocalRedisState, ids: readonly number[], call: (id: number) => unknown): Promise<LocalFill> {
  const visitAll = async () => {
    for (const id of ids) await call(id);
  };
  const started = Date.now();
  await visitAll();
  while (!statsOf(state, label).tracking) {
    if (Date.now() - started > TRACKING_TIMEOUT_MS) {
      throw new Error(
        `${label}: the local layer's tracking did not come on within ${TRACKING_TIMEOUT_MS / 1000} s of the first reads ` +
          `(localStats ${JSON.stringify(statsOf(state, label))})`,
      );
    }
    await delay(10);
  }
  const trackingAfterMs = Date.now() - started;
  for (let round = 1; round <= FILL_ROUNDS; round++) {
    await visitAll();
    const stats = statsOf(state, label);
    if (stats.entries === ids.length) return { label, state, ids: ids.length, trackingAfterMs, rounds: round, before: stats };
  }
  throw new Error(
    `${label}: after tracking came on and ${FILL_ROUNDS} rounds of reads of all ${ids.length} ids, the local layer holds ` +
      `${statsOf(state, label).entries} entries (localStats ${JSON.stringify(statsOf(state, label))})`,
  );
}

/** One note per table: how the layers were filled, and whether they stayed whole while measuring. */
function fillNote(fills: readonly LocalFill[]): string {
  const parts = fills.map((fill) => {
    const after = statsOf(fill.state, fill.label);
    const flushes = after.flushes - fill.before.flushes;
    const invalidations = after.invalidations - fill.before.invalidations;
    const kept =
      flushes === 0 && invalidations === 0 && after.entries === fill.ids
        ? `still ${after.entries}/${fill.ids} entries after measuring`
        : `after measuring: ${after.entries}/${fill.ids} entries, ${flushes} flush(es), ${invalidations} invalidation(s) while measuring (some hits then went to Redis)`;
    return `${fill.label}: tracking on ${fill.trackingAfterMs} ms after the first call, filled by ${fill.rounds} round(s) of reads, ${kept}`;
  });
  return `Local layer: ${parts.join("; ")}.`;
}

const localTable = {
  id: "11a",
  title: "Repeat Redis hit with the local layer, next to a memory-state hit",
  measures: `one call whose ~${serializedSize(record(1))}-byte record is in Redis and in the process's local layer (64 distinct ids, one call at a time)`,
};

const inflightTable = {
  id: "11b",
  title: "Redis hits with the local layer, 100 in flight",
  measures: "one call of a batch of 100 started together (100 distinct ids, all cached in Redis and in the local layer); ops/s is the throughput",
};

async function sequentialCases(context: RunContext, ids: number[]): Promise<{ cases: Case[]; fills: LocalFill[] }> {
  const server = await context.redis();
  const raw = await rawRedisClient(context, server);
  const columns = [ids];
  const expected = await checksumOf(countedLoadUser().fn, columns, "id");
  const make = async (name: string, memoized: Fn, executions: () => number, reference = false) =>
    hitCase({ name, reference, memoized, columns, mode: "await", expected, consume: "id", executions });
  const viaGetOrSet = async (name: string, getOrSet: GetOrSet) => {
    const c = countedLoadUser();
    return make(name, (id) => getOrSet(`user:${id}`, () => c.fn(id)), c.executions);
  };

  const memory = countedLoadUser();
  const local = countedLoadUser();
  const localState = await mimicLocalRedisState(context, "s11a-local");
  const localFn = Mime({ ttl: REDIS_TTL_SECONDS, state: localState, name: "s11a.local.loadUser" })(local.fn);
  const network = countedLoadUser();
  const networkState = await mimicRedisState(context, "s11a-net");

  const syncMemory = countedLoadUserSync();
  const syncLocal = countedLoadUserSync();
  const syncLocalState = await mimicLocalRedisState(context, "s11a-local-sync");
  const syncLocalFn = Mime({ ttl: REDIS_TTL_SECONDS, state: syncLocalState, name: "s11a.local.loadUserSync" })(syncLocal.fn);
  const makeSync = async (name: string, memoized: (id: number) => RecordValue, executions: () => number) =>
    hitCase({ name, memoized, columns, mode: "sync", expected, consume: "id", executions });

  const fills = [
    await fillLocalLayer("async", localState, ids, localFn),
    await fillLocalLayer("sync", syncLocalState, ids, syncLocalFn),
  ];
  const cases = [
    await make(MEMORY, Mime({ ttl: REDIS_TTL_SECONDS, state: new MemoryState(), name: "s11a.memory.loadUser" })(memory.fn), memory.executions, true),
    await make(LOCAL, localFn, local.executions),
    await make(NETWORK, Mime({ ttl: REDIS_TTL_SECONDS, state: networkState, name: "s11a.net.loadUser" })(network.fn), network.executions),
    await make(RAW, await rawGetAndDeserialize(raw, "raw-s11a", ids, record), () => 0),
    await viaGetOrSet(BENTO, bentocacheTiered(context, server, "bento-s11a", true)),
    await viaGetOrSet(BENTO_OBJECTS, bentocacheTiered(context, server, "bento-s11a-objects", false)),
    await makeSync(SYNC_MEMORY, Mime({ ttl: REDIS_TTL_SECONDS, state: new MemoryState(), name: "s11a.memory.loadUserSync" })(syncMemory.fn), syncMemory.executions),
    await makeSync(SYNC_LOCAL, syncLocalFn, syncLocal.executions),
  ];
  return { cases, fills };
}

async function inflightCases(context: RunContext, ids: number[]): Promise<{ cases: Case[]; fills: LocalFill[] }> {
  const server = await context.redis();
  const raw = await rawRedisClient(context, server);
  const columns = [ids];
  const expected = await checksumOf(countedLoadUser().fn, columns, "id");
  const make = async (name: string, memoized: Fn, executions: () => number, reference = false) =>
    hitCase({ name, reference, memoized, columns, mode: "inflight", expected, consume: "id", executions });
  const local = countedLoadUser();
  const localState = await mimicLocalRedisState(context, "s11b-local");
  const localFn = Mime({ ttl: REDIS_TTL_SECONDS, state: localState, name: "s11b.local.loadUser" })(local.fn);
  const network = countedLoadUser();
  const networkState = await mimicRedisState(context, "s11b-net");
  const fills = [await fillLocalLayer("100 in flight", localState, ids, localFn)];
  const cases = [
    await make(RAW, await rawGetAndDeserialize(raw, "raw-s11b", ids, record), () => 0, true),
    await make(LOCAL, localFn, local.executions),
    await make(NETWORK, Mime({ ttl: REDIS_TTL_SECONDS, state: networkState, name: "s11b.net.loadUser" })(network.fn), network.executions),
  ];
  return { cases, fills };
}

export const redisLocalLayer: Scenario = {
  id: "11",
  title: "Redis hits served by the local layer",
  tables: [localTable, inflightTable],
  async run(context) {
    const sequential = await sequentialCases(
      context,
      Array.from({ length: 64 }, (_, i) => i + 1),
    );
    const sequentialRows = await measureCases(sequential.cases, context.settings);
    const sequentialNote = fillNote(sequential.fills);
    const inflight = await inflightCases(
      context,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const inflightRows = await measureCases(inflight.cases, context.settings);
    const inflightNote = fillNote(inflight.fills);
    return [
      {
        ...localTable,
        rows: sequentialRows,
        goals: [
          atMost("(11a) Redis hit with the local layer ≤ 3× a memory-state hit", sequentialRows, LOCAL, MEMORY, 3),
          atMost("(11a, sync) sync Redis hit with the local layer ≤ 3× a sync memory-state hit", sequentialRows, SYNC_LOCAL, SYNC_MEMORY, 3),
        ],
        notes: [
          "The reference is a hit on a process-local MemoryState, not a Redis hit: a local-layer hit is answered from this process's memory (no round trip, no deserialize), so it is compared with the other way of answering from memory. The Redis rows without a local tier are there for scale.",
          "Every local-layer and bentocache row keeps its entries coherent across processes (Redis client tracking in broadcast mode on the state's prefix; bentocache's Redis bus). Both hand out the same object on every hit except bentocache with its default serialize: true, which parses JSON per hit.",
          sequentialNote,
        ],
      },
      {
        ...inflightTable,
        rows: inflightRows,
        goals: [throughputAtLeast("(11b) ≥ 10× raw node-redis throughput with 100 in flight", inflightRows, LOCAL, RAW, 10)],
        notes: [
          "Raw node-redis pipelines the 100 GETs over one connection; the local layer answers each call from memory without a command.",
          inflightNote,
        ],
      },
    ];
  },
};
