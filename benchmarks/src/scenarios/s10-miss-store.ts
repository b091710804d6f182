import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { serialize } from "node:v8";
import { Mime } from "@mimic/core";
import { SkipScenario, type RunContext } from "../context.js";
import { formatBytes, payloadOfSize, serializedSize } from "../data.js";
import { formatRatio } from "../report.js";
import { measureCases } from "../measure.js";
import { mimicRedisState, rawRedisClient, REDIS_TTL_SECONDS } from "../redis-peers.js";
import type { Scenario } from "../scenario.js";
import type { Case, Row, Table } from "../types.js";

const TTL_SECONDS = 3_600;
const SIZES = [1_024, 100 * 1_024];
/** The sample is one op and `afterEach` (removing the entry) costs about as much again. */
const TIME_FACTOR = 0.35;

type Payload = ReturnType<typeof payloadOfSize>;

/**
 * One op: a call whose key is not cached, so the state is read (miss), the function runs and the
 * result is stored. After each sample the entry is removed again through the wrapper's own
 * `invalidate`, outside the timed window, so every sample is a miss on the same key and nothing
 * accumulates in Redis or on disk.
 */
function missCase(
  name: string,
  memoized: ((id: number) => unknown) & { invalidate(id: number): unknown },
  async: boolean,
  reference = false,
): Case {
  const id = 7;
  return {
    name,
    ...(reference ? { reference: true } : {}),
    ops: 1,
    timeFactor: TIME_FACTOR,
    async,
    run: async ? () => memoized(id) : () => void memoized(id),
    afterEach: () => memoized.invalidate(id),
  };
}

function producer(payload: Payload, tag: string) {
  // A function per row (its own identity) that hands back the prebuilt value: the cost measured is
  // Mimic's and the state's, not building the value.
  const sync = Object.defineProperty((_id: number): Payload => payload, "name", { value: `build${tag}` });
  const async = Object.defineProperty(async (_id: number): Promise<Payload> => payload, "name", {
    value: `load${tag}`,
  });
  return { sync, async };
}

/** Adds, to each Mimic row, its time relative to the floor row of the same value size. */
function withFloorColumn(rows: readonly Row[], floors: ReadonlyMap<number, string>): Row[] {
  return rows.map((row) => {
    const bytes = [...floors.keys()].find((size) => row.name.endsWith(`, ${formatBytes(size)}`));
    const floor = rows.find((r) => r.name === (bytes === undefined ? undefined : floors.get(bytes)));
    if (floor === undefined || floor === row) return row;
    return { ...row, extra: { ...row.extra, "vs floor, same size": formatRatio(row.medianNs / floor.medianNs) } };
  });
}

type Payloads = ReadonlyMap<number, Payload>;

async function memoryCases(payloads: Payloads): Promise<{ cases: Case[]; floors: Map<number, string> }> {
  const cases: Case[] = [];
  const first = payloads.values().next().value!;
  // The floor: a hand-written Map memo's miss (get, compute, set); it holds values by reference too.
  const cache = new Map<number, Payload>();
  const build = producer(first, "HandMemo").sync;
  cases.push({
    name: "hand-written Map memo: get (miss) + set",
    reference: true,
    ops: 1,
    timeFactor: TIME_FACTOR,
    async: false,
    run() {
      let value = cache.get(7);
      if (value === undefined) {
        value = build(7);
        cache.set(7, value);
      }
    },
    afterEach: () => cache.delete(7),
  });
  for (const [bytes, payload] of payloads) {
    const fn = producer(payload, `Memory${bytes}`);
    cases.push(missCase(`Mimic MemoryState, sync fn, ${formatBytes(bytes)}`, Mime({ ttl: TTL_SECONDS })(fn.sync), false));
    cases.push(missCase(`Mimic MemoryState, async fn, ${formatBytes(bytes)}`, Mime({ ttl: TTL_SECONDS })(fn.async), true));
  }
  return { cases, floors: new Map() };
}

async function redisCases(context: RunContext, payloads: Payloads): Promise<{ cases: Case[]; floors: Map<number, string> }> {
  const state = await mimicRedisState(context, "s10");
  const raw = await rawRedisClient(context, await context.redis());
  const cases: Case[] = [];
  const floors = new Map<number, string>();
  for (const [bytes, payload] of payloads) {
    const label = formatBytes(bytes);
    const key = `raw-s10:${bytes}`;
    const floorName = `raw node-redis GET (nil) + SET v8.serialize, ${label}`;
    floors.set(bytes, floorName);
    cases.push({
      name: floorName,
      ...(floors.size === 1 ? { reference: true } : {}),
      ops: 1,
      timeFactor: TIME_FACTOR,
      async: true,
      async run() {
        if ((await raw.get(key)) !== null) throw new Error(`${key} should be a miss`);
        await raw.set(key, serialize(payload), { EX: REDIS_TTL_SECONDS });
      },
      afterEach: () => raw.del(key),
    });
    const fn = producer(payload, `Redis${bytes}`);
    const options = { ttl: REDIS_TTL_SECONDS, state };
    cases.push(missCase(`Mimic RedisState, async fn, ${label}`, Mime({ ...options, name: `s10.async.${bytes}` })(fn.async), true));
    cases.push(missCase(`Mimic RedisState, sync fn, ${label}`, Mime({ ...options, name: `s10.sync.${bytes}` })(fn.sync), false));
  }
  return { cases, floors };
}

async function tempFileCases(context: RunContext, payloads: Payloads): Promise<{ cases: Case[]; floors: Map<number, string> }> {
  const TempFileState = await context.tempFileState();
  const state = new TempFileState({ basePath: context.tempDir("s10-mimic") });
  context.defer(() => state.close?.());
  const floorDir = context.tempDir("s10-floor");
  const cases: Case[] = [];
  const floors = new Map<number, string>();
  for (const [bytes, payload] of payloads) {
    const label = formatBytes(bytes);
    const file = path.join(floorDir, `${bytes}.bin`);
    const temp = `${file}.tmp`;
    const floorName = `readFileSync (ENOENT) + writeFileSync + renameSync, ${label}`;
    floors.set(bytes, floorName);
    cases.push({
      name: floorName,
      ...(floors.size === 1 ? { reference: true } : {}),
      ops: 1,
      timeFactor: TIME_FACTOR,
      async: false,
      run() {
        let found = true;
        try {
          readFileSync(file);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
          found = false;
        }
        if (found) throw new Error(`${file} should be a miss`);
        writeFileSync(temp, serialize(payload));
        renameSync(temp, file);
      },
      afterEach: () => rmSync(file, { force: true }),
    });
    const fn = producer(payload, `File${bytes}`);
    cases.push(missCase(`Mimic TempFileState, sync fn, ${label}`, Mime({ ttl: TTL_SECONDS, state, name: `s10.sync.${bytes}` })(fn.sync), false));
    cases.push(
      missCase(`Mimic TempFileState, async fn, ${label}`, Mime({ ttl: TTL_SECONDS, state, name: `s10.async.${bytes}` })(fn.async), true),
    );
  }
  return { cases, floors };
}

const measures = "one call whose key is not cached: read (miss), run the function (it returns a prebuilt value), store the result";
const memoryTable = { id: "10a", title: "Miss + store: MemoryState, 1 KiB and 100 KiB values", measures };
const redisTable = { id: "10b", title: "Miss + store: RedisState, 1 KiB and 100 KiB values", measures };
const tempFileTable = { id: "10c", title: "Miss + store: TempFileState, 1 KiB and 100 KiB values", measures };

export const missAndStore: Scenario = {
  id: "10",
  title: "Miss + store cost for each state",
  tables: [memoryTable, redisTable, tempFileTable],
  async run(context) {
    const payloads = new Map(SIZES.map((bytes) => [bytes, payloadOfSize(bytes)] as const));
    const sizes = `Values: lists of small records whose node:v8 serialization is ${[...payloads.values()]
      .map((p) => `${serializedSize(p)} B`)
      .join(" and ")}.`;
    const parts = [
      { table: memoryTable, build: () => memoryCases(payloads), note: "MemoryState keeps values by reference: the size does not matter." },
      { table: redisTable, build: () => redisCases(context, payloads), note: "Mimic's sync rows go through the worker bridge twice (get, then set)." },
      { table: tempFileTable, build: () => tempFileCases(context, payloads), note: "Files are written to a temp file and renamed into place (atomic), without fsync." },
    ];
    const tables: Table[] = [];
    for (const { table, build, note } of parts) {
      let built: { cases: Case[]; floors: Map<number, string> };
      try {
        built = await build();
      } catch (error) {
        if (!(error instanceof SkipScenario)) throw error;
        tables.push({ ...table, rows: [], goals: [], notes: [], skipped: error.message });
        continue;
      }
      const rows = withFloorColumn(await measureCases(built.cases, context.settings), built.floors);
      tables.push({ ...table, rows, goals: [], notes: [sizes, note] });
    }
    return tables;
  },
};
