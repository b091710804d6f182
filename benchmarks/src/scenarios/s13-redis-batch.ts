import { deserialize, serialize } from "node:v8";
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from "node:timers/promises";
import { createKeyv } from "@keyv/redis";
import { Mime } from "@mimic/core";
import { createCache } from "cache-manager";
import DataLoader from "dataloader";
import type { RedisServer, RunContext } from "../context.js";
import { record, type RecordValue, serializedSize } from "../data.js";
import { rowNamed, throughputAtLeast } from "../goals.js";
import { measureCases } from "../measure.js";
import { createClient, RESP_TYPES } from "redis";
import { rawRedisClient, REDIS_TTL_SECONDS } from "../redis-peers.js";
import { parseCommandStats, startRoundTripCounter } from "../round-trip-proxy.js";
import type { Scenario } from "../scenario.js";
import type { Case, Goal, Row } from "../types.js";

/**
 * Scenario 13 (issue 19): 1,000 ids requested in batches of 100 on Redis, half of each batch cached
 * (the even ids, stored beforehand through each library) and half not (the odd ids, which the bulk
 * loader must load). After each sample the odd ids of that batch are removed again through the
 * library's own delete, outside the timed window, so every sample has the same 50/50 mix. Round trips
 * and commands per batch are counted in a separate pass, through a counting relay and the server's
 * `INFO commandstats`, on a second instance of each row.
 */

const IDS = 1_000;
const BATCH = 100;
const MIMIC = "Mimic: Mime.batch({ ttl, state: RedisState, maxBatchSize: 100 })(loadUsers)";
const DATALOADER = "DataLoader + hand-written MGET cache (MGET, load misses, pipelined SET PX)";
const CACHE_MANAGER = "cache-manager mget, load misses, mset (Keyv + @keyv/redis)";
const CEILING = "floor, not a peer: MGET, load misses, answer; their SETs sent without waiting";

/** The bulk source (a `findMany` on a database): the same records as scenarios 6–7, counted per item. */
function countedLoadUsers(): { fn: (ids: readonly number[]) => Promise<RecordValue[]>; items(): number } {
  let items = 0;
  return {
    fn: async function loadUsers(ids: readonly number[]): Promise<RecordValue[]> {
      items += ids.length;
      return ids.map(record);
    },
    items: () => items,
  };
}

type LoadUsers = ReturnType<typeof countedLoadUsers>["fn"];

/** One row, set up on one endpoint (the server, or the counting relay in front of it). */
interface BulkPeer {
  load(ids: readonly number[]): Promise<readonly RecordValue[]>;
  /** Removes the given ids from the cache through the library's own delete. */
  forget(ids: readonly number[]): Promise<void>;
  /** Closes its connections. */
  close(): Promise<unknown>;
}

type PeerFactory = (server: RedisServer, namespace: string, loadUsers: LoadUsers) => Promise<BulkPeer>;

/**
 * A hand-written MGET cache: one `MGET` for the batch, the misses loaded in one call, their records
 * written in one pipeline of `SET PX`. `"await writes"` answers once the writes are acknowledged (the
 * DataLoader peer); `"send writes"` answers as soon as they are sent, the least any cache that reads
 * Redis can take per batch (one round trip): the ceiling row.
 */
async function handWrittenMgetCache(server: RedisServer, namespace: string, loadUsers: LoadUsers, writes: "await writes" | "send writes") {
  const client = createClient({ url: server.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  client.on("error", () => undefined); // reported by the failing command
  await client.connect();
  const keyOf = (id: number): string => `${namespace}:user:${id}`;
  const batchLoad = async (ids: readonly number[]): Promise<RecordValue[]> => {
    const cached = await client.mGet(ids.map(keyOf));
    const results = new Array<RecordValue>(ids.length);
    const missing: number[] = [];
    cached.forEach((bytes, i) => {
      if (bytes === null) missing.push(i);
      else results[i] = deserialize(bytes as unknown as Buffer) as RecordValue;
    });
    if (missing.length > 0) {
      const loaded = await loadUsers(missing.map((i) => ids[i]!));
      const pipeline = client.multi();
      missing.forEach((i, j) => {
        results[i] = loaded[j]!;
        pipeline.set(keyOf(ids[i]!), serialize(loaded[j]), { PX: REDIS_TTL_SECONDS * 1000 });
      });
      const written = pipeline.execAsPipeline();
      if (writes === "await writes") await written;
      else written.catch(() => undefined); // the floor does not report its writes
    }
    return results;
  };
  const forget = async (ids: readonly number[]): Promise<void> => {
    await client.del(ids.map(keyOf));
  };
  return { client, batchLoad, forget };
}

function peerFactories(context: RunContext): { name: string; make: PeerFactory }[] {
  return [
    {
      name: MIMIC,
      make: async (server, namespace, loadUsers) => {
        const RedisState = await context.redisState();
        const state = new RedisState({ url: server.url, prefix: `bench:${namespace}:` });
        const memoized = Mime.batch({ ttl: REDIS_TTL_SECONDS, state, name: `${namespace}.loadUsers`, maxBatchSize: BATCH })(loadUsers);
        return {
          load: (ids) => memoized(ids),
          forget: async (ids) => {
            await Promise.all(ids.map((id) => memoized.invalidate(id)));
          },
          close: async () => state.close?.(),
        };
      },
    },
    {
      name: DATALOADER,
      make: async (server, namespace, loadUsers) => {
        const { client, batchLoad, forget } = await handWrittenMgetCache(server, namespace, loadUsers, "await writes");
        return {
          // A DataLoader per request, as its documentation recommends (its own cache lives one request).
          load: async (ids) => {
            const results = await new DataLoader<number, RecordValue>(batchLoad, { maxBatchSize: BATCH }).loadMany(ids);
            for (const result of results) if (result instanceof Error) throw result;
            return results as RecordValue[];
          },
          forget,
          close: () => client.close(),
        };
      },
    },
    {
      name: CEILING,
      make: async (server, namespace, loadUsers) => {
        const { client, batchLoad, forget } = await handWrittenMgetCache(server, namespace, loadUsers, "send writes");
        return { load: batchLoad, forget, close: () => client.close() };
      },
    },
    {
      name: CACHE_MANAGER,
      make: async (server, namespace, loadUsers) => {
        const cache = createCache({ stores: [createKeyv(server.url, { namespace })] });
        const keyOf = (id: number): string => `user:${id}`;
        const ttlMs = REDIS_TTL_SECONDS * 1000;
        return {
          // cache-manager has no bulk get-or-set: this is the glue a user writes around mget/mset.
          load: async (ids) => {
            const cached = await cache.mget<RecordValue>(ids.map(keyOf));
            const missing = ids.filter((_, i) => cached[i] === undefined);
            if (missing.length === 0) return cached as RecordValue[];
            const loaded = await loadUsers(missing);
            await cache.mset(missing.map((id, j) => ({ key: keyOf(id), value: loaded[j]!, ttl: ttlMs })));
            let next = 0;
            return cached.map((value) => value ?? loaded[next++]!);
          },
          forget: async (ids) => {
            await cache.mdel(ids.map(keyOf));
          },
          close: () => cache.disconnect(),
        };
      },
    },
  ];
}

const allIds = Array.from({ length: IDS }, (_, i) => i);
const batches = Array.from({ length: IDS / BATCH }, (_, b) => allIds.slice(b * BATCH, (b + 1) * BATCH));
const evenIds = allIds.filter((id) => id % 2 === 0);
const oddOf = (ids: readonly number[]): number[] => ids.filter((id) => id % 2 === 1);

/** Lets writes a library defers to a later turn of the event loop go out before the next step. */
async function settle(): Promise<void> {
  await yieldToEventLoop();
  await yieldToEventLoop();
}

/** Runs one batch and checks it: results in order, and exactly the 50 uncached ids loaded. */
async function checkedBatch(name: string, peer: BulkPeer, loader: ReturnType<typeof countedLoadUsers>, ids: readonly number[]): Promise<void> {
  const before = loader.items();
  const results = await peer.load(ids);
  const loaded = loader.items() - before;
  if (results.length !== ids.length) throw new Error(`${name} returned ${results.length} results for ${ids.length} ids`);
  results.forEach((result, i) => {
    if (result?.id !== ids[i]) throw new Error(`${name} returned the record of ${String(result?.id)} for id ${ids[i]}`);
  });
  if (loaded !== ids.length / 2) throw new Error(`${name} loaded ${loaded} ids of a batch whose half (${ids.length / 2}) is cached`);
}

/** Fills the even ids through the library itself, in batches of 100. */
async function prewarm(peer: BulkPeer): Promise<void> {
  for (let start = 0; start < evenIds.length; start += BATCH) await peer.load(evenIds.slice(start, start + BATCH));
  await settle();
}

function batchCase(name: string, peer: BulkPeer, loader: ReturnType<typeof countedLoadUsers>): Case {
  let next = 0;
  let last = batches[0]!;
  return {
    name,
    ops: BATCH,
    async: true,
    run: async () => {
      last = batches[next++ % batches.length]!;
      await checkedBatch(name, peer, loader, last);
    },
    // Outside the timed window: the batch's odd ids become uncached again.
    afterEach: async () => {
      await settle();
      await peer.forget(oddOf(last));
    },
    timeFactor: 2,
  };
}

interface WireCount {
  readonly roundTrips: number;
  /** Commands per batch, by name. */
  readonly commands: ReadonlyMap<string, number>;
}

/** One pass over the 1,000 ids through the counting relay: round trips and commands per batch. */
async function countWire(
  context: RunContext,
  server: RedisServer,
  make: PeerFactory,
  namespace: string,
  info: () => Promise<string>,
): Promise<WireCount> {
  const proxy = await startRoundTripCounter({ host: "127.0.0.1", port: server.port });
  try {
    const loader = countedLoadUsers();
    const peer = await make({ ...server, port: proxy.port, url: proxy.url }, namespace, loader.fn);
    try {
      return await countBatches(peer, loader, namespace, info, proxy.roundTrips);
    } finally {
      await peer.close();
    }
  } finally {
    await proxy.close();
  }
}

async function countBatches(
  peer: BulkPeer,
  loader: ReturnType<typeof countedLoadUsers>,
  name: string,
  info: () => Promise<string>,
  clientRoundTrips: () => number,
): Promise<WireCount> {
  await prewarm(peer);
  let roundTrips = 0;
  const commands = new Map<string, number>();
  for (const ids of batches) {
    await sleep(20);
    const tripsBefore = clientRoundTrips();
    const statsBefore = parseCommandStats(await info());
    await checkedBatch(name, peer, loader, ids);
    // Writes a library leaves in the background after answering still belong to the batch.
    await sleep(30);
    roundTrips += clientRoundTrips() - tripsBefore;
    for (const [command, calls] of parseCommandStats(await info())) {
      const delta = calls - (statsBefore.get(command) ?? 0);
      if (delta > 0 && command !== "info") commands.set(command, (commands.get(command) ?? 0) + delta);
    }
    await settle();
    await peer.forget(oddOf(ids));
  }
  const perBatch = new Map([...commands].map(([command, calls]) => [command, calls / batches.length]));
  return { roundTrips: roundTrips / batches.length, commands: perBatch };
}

function describeCommands(commands: ReadonlyMap<string, number>): string {
  const total = [...commands.values()].reduce((a, b) => a + b, 0);
  const parts = [...commands].sort((a, b) => b[1] - a[1]).map(([command, calls]) => `${command} ${Number(calls.toFixed(1))}`);
  return `${Number(total.toFixed(1))} (${parts.join(", ")})`;
}

/** Ratios against the fastest peer (not Mimic), which becomes the table's reference. */
function againstBestPeer(rows: readonly Row[]): { rows: Row[]; best: Row } {
  const best = rows.filter((row) => row.name !== MIMIC && row.name !== CEILING).sort((a, b) => a.medianNs - b.medianNs)[0]!;
  return { rows: rows.map((row) => ({ ...row, reference: row === best, ratio: row.medianNs / best.medianNs })), best };
}

function roundTripGoal(rows: readonly Row[]): Goal {
  const text = "(13) ≤ 2 round trips per batch of 100";
  const row = rowNamed(rows, MIMIC);
  if (row === undefined) return { text, met: null, detail: `row missing: ${MIMIC}` };
  const trips = Number(row.extra["round trips / batch"]);
  return { text, met: trips <= 2, detail: `${MIMIC}: ${trips} round trips and ${row.extra["commands / batch"]} commands per batch` };
}

/** How far any cache could get: the floor row's throughput against the best peer's. */
function ceilingNote(rows: readonly Row[], best: Row): string {
  const ceiling = rowNamed(rows, CEILING);
  if (ceiling === undefined) return `row missing: ${CEILING}`;
  return `"${CEILING}" is a floor, not a peer: one MGET round trip per batch, no check, no envelope, writes not awaited. It reaches ${(best.medianNs / ceiling.medianNs).toFixed(2)}× the best peer's throughput in this run; a cache that reads Redis at all cannot beat it, so the goal's 3× is out of reach where it is under 3×.`;
}

const table = {
  id: "13",
  title: "Batch loads on Redis: 1,000 ids in batches of 100, half cached",
  measures: `one id of a batch of 100 (~${serializedSize(record(1))}-byte records; 50 cached, 50 loaded by the bulk loader and stored); ops/s is ids per second`,
};

export const redisBatch: Scenario = {
  id: "13",
  title: table.title,
  tables: [table],
  async run(context) {
    const server = await context.redis();
    const stats = await rawRedisClient(context, server);
    const info = async (): Promise<string> => String(await stats.info("commandstats"));
    const factories = peerFactories(context);
    const cases: Case[] = [];
    for (const [index, { name, make }] of factories.entries()) {
      const loader = countedLoadUsers();
      const peer = await make(server, `s13-${index}`, loader.fn);
      context.defer(() => peer.close());
      await prewarm(peer);
      await checkedBatch(name, peer, loader, batches[0]!);
      await settle();
      await peer.forget(oddOf(batches[0]!));
      cases.push({ ...batchCase(name, peer, loader), ...(name === DATALOADER ? { reference: true } : {}) });
    }
    const measured = await measureCases(cases, context.settings);
    const wire = new Map<string, WireCount>();
    for (const [index, { name, make }] of factories.entries()) {
      wire.set(name, await countWire(context, server, make, `s13-wire-${index}`, info));
    }
    const { rows, best } = againstBestPeer(
      measured.map((row) => ({
        ...row,
        extra: {
          "round trips / batch": Number(wire.get(row.name)!.roundTrips.toFixed(1)),
          "commands / batch": describeCommands(wire.get(row.name)!.commands),
        },
      })),
    );
    return [
      {
        ...table,
        rows,
        goals: [throughputAtLeast("(13) throughput ≥ 3× the best peer's", rows, MIMIC, best.name, 3), roundTripGoal(rows)],
        notes: [
          ceilingNote(rows, best),
          "ratio is against the fastest peer of this run (the reference row). Each sample is one batch of 100 ids; after it, the batch's odd ids are deleted through the library (outside the timed window), so every sample loads exactly 50 ids, which the run checks.",
          "Round trips (Redis has no counter for them) are counted at the client's sockets: a write that follows data read on the same socket starts one, so a pipeline written in one tick is one round trip. Commands come from the server's INFO commandstats. Both are taken in a separate pass of 10 batches (the 1,000 ids) on a second instance of each row, connected through a TCP relay on its own port that marks the sockets to count, and include writes sent after the batch answered.",
          "bentocache 1.6.1 has no bulk read (getMany is its open issue #78): it has no row here; 100 getOrSet calls in flight are scenario 7's shape, not a bulk load.",
          "Serializers: Mimic and the DataLoader row node:v8; cache-manager (Keyv) JSON. cache-manager's mset goes through Keyv's setMany (a MULTI/EXEC transaction on @keyv/redis).",
        ],
      },
    ];
  },
};
