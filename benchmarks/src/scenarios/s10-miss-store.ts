import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { serialize } from "node:v8";
import { Mime } from "@mimic/core";
import { SkipScenario, type RunContext } from "../context.js";
import { formatBytes, payloadOfSize, serializedSize } from "../data.js";
import { measureCases } from "../measure.js";
import { mimicRedisState, rawRedisClient, REDIS_TTL_SECONDS } from "../redis-peers.js";
import type { Scenario } from "../scenario.js";
import type { Case } from "../types.js";

const TTL_SECONDS = 3_600;
const SIZES = [1_024, 100 * 1_024];
/** The sample is one op and `afterEach` (removing the entry) costs about as much again. */
const TIME_FACTOR = 0.5;

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

async function redisRows(context: RunContext, payloads: Map<number, Payload>): Promise<Case[]> {
  const state = await mimicRedisState(context, "s10");
  const raw = await rawRedisClient(context, await context.redis());
  const cases: Case[] = [];
  for (const [bytes, payload] of payloads) {
    const label = formatBytes(bytes);
    const fn = producer(payload, `Redis${bytes}`);
    const options = { ttl: REDIS_TTL_SECONDS, state };
    cases.push(missCase(`Mimic RedisState, async fn, ${label}`, Mime({ ...options, name: `s10.async.${bytes}` })(fn.async), true));
    cases.push(missCase(`Mimic RedisState, sync fn, ${label}`, Mime({ ...options, name: `s10.sync.${bytes}` })(fn.sync), false));
    const key = `raw-s10:${bytes}`;
    cases.push({
      name: `raw node-redis GET (nil) + SET v8.serialize, ${label}`,
      ops: 1,
      timeFactor: TIME_FACTOR,
      async: true,
      async run() {
        if ((await raw.get(key)) !== null) throw new Error(`${key} should be a miss`);
        await raw.set(key, serialize(payload), { EX: REDIS_TTL_SECONDS });
      },
      afterEach: () => raw.del(key),
    });
  }
  return cases;
}

async function tempFileRows(context: RunContext, payloads: Map<number, Payload>): Promise<Case[]> {
  const TempFileState = await context.tempFileState();
  const state = new TempFileState({ basePath: context.tempDir("s10-mimic") });
  context.defer(() => state.close?.());
  const floorDir = context.tempDir("s10-floor");
  const cases: Case[] = [];
  for (const [bytes, payload] of payloads) {
    const label = formatBytes(bytes);
    const fn = producer(payload, `File${bytes}`);
    cases.push(missCase(`Mimic TempFileState, sync fn, ${label}`, Mime({ ttl: TTL_SECONDS, state, name: `s10.sync.${bytes}` })(fn.sync), false));
    cases.push(
      missCase(`Mimic TempFileState, async fn, ${label}`, Mime({ ttl: TTL_SECONDS, state, name: `s10.async.${bytes}` })(fn.async), true),
    );
    const file = path.join(floorDir, `${bytes}.bin`);
    const temp = `${file}.tmp`;
    cases.push({
      name: `readFileSync (ENOENT) + writeFileSync + renameSync, ${label}`,
      ops: 1,
      timeFactor: TIME_FACTOR,
      async: false,
      run() {
        try {
          readFileSync(file);
          throw new Error(`${file} should be a miss`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
        writeFileSync(temp, serialize(payload));
        renameSync(temp, file);
      },
      afterEach: () => rmSync(file, { force: true }),
    });
  }
  return cases;
}

const table = {
  id: "10",
  title: "Miss + store, per state, 1 KiB and 100 KiB values",
  measures: "one call whose key is not cached: read (miss), run the function (returns a prebuilt value), store the result",
};

export const missAndStore: Scenario = {
  id: "10",
  title: table.title,
  tables: [table],
  async run(context) {
    const payloads = new Map(SIZES.map((bytes) => [bytes, payloadOfSize(bytes)] as const));
    const cases: Case[] = [];
    for (const [bytes, payload] of payloads) {
      const fn = producer(payload, `Memory${bytes}`);
      cases.push(missCase(`Mimic MemoryState, sync fn, ${formatBytes(bytes)}`, Mime({ ttl: TTL_SECONDS })(fn.sync), false, bytes === SIZES[0]));
      cases.push(missCase(`Mimic MemoryState, async fn, ${formatBytes(bytes)}`, Mime({ ttl: TTL_SECONDS })(fn.async), true));
    }
    const notes = [
      `Values: lists of small records whose node:v8 serialization is ${[...payloads.values()].map((p) => `${serializedSize(p)} B`).join(" and ")}.`,
      "MemoryState keeps values by reference, so its cost does not depend on their size; Redis and temp-file states serialize them.",
    ];
    for (const [label, rows] of [
      ["Redis", redisRows],
      ["temp-file", tempFileRows],
    ] as const) {
      try {
        cases.push(...(await rows(context, payloads)));
      } catch (error) {
        if (!(error instanceof SkipScenario)) throw error;
        notes.push(`${label} rows skipped: ${error.message}`);
        console.log(`   skipped (${label} rows): ${error.message}`);
      }
    }
    const rows = await measureCases(cases, context.settings);
    return [{ ...table, rows, goals: [], notes }];
  },
};
