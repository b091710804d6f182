import { Mime, type IState } from "@mimic/core";
import { RunContext } from "../context.js";
import { payloadOfSize, primitiveArguments, queryArguments, record, twoArgumentColumns, type Query } from "../data.js";
import { asyncBatch, concurrentBatch, syncBatch } from "../loops.js";
import { rawGetAndDeserialize, rawRedisClient } from "../redis-peers.js";

/**
 * One Mimic hot path in a loop, for `node --cpu-prof` (started by profile/run.ts). It imports
 * @mimic/core from its built dist, like the benchmarks, so the profile shows the shipped code.
 *
 *   node --cpu-prof --import tsx src/profile/hot-path.ts <path> <seconds>
 */

type Loop = () => unknown;

const quickSettings = { quick: true, timeMs: 0, warmupMs: 0, rounds: 1, minIterations: 1 } as const;

async function redisState(context: RunContext, prefix: string): Promise<IState> {
  const RedisState = await context.redisState();
  const server = await context.redis();
  const state = new RedisState({ url: server.url, prefix: `profile:${prefix}:` });
  context.defer(() => state.close?.());
  return state;
}

const paths: Record<string, (context: RunContext) => Promise<Loop>> = {
  /** Scenario 1: sync hit, one number. */
  async "memory-primitive"() {
    const memoized = Mime()(function price(id: number) {
      return id * 2 + 1;
    });
    return syncBatch(memoized, [primitiveArguments()]);
  },
  /** Scenario 1 with a ttl (the expiry check on every hit). */
  async "memory-primitive-ttl"() {
    const memoized = Mime({ ttl: 60 })(function price(id: number) {
      return id * 2 + 1;
    });
    return syncBatch(memoized, [primitiveArguments()]);
  },
  /** Scenario 2: sync hit, (string, number). */
  async "memory-two-args"() {
    const memoized = Mime()(function pageOf(user: string, page: number) {
      return user.length * 1_000 + page;
    });
    return syncBatch(memoized, twoArgumentColumns());
  },
  /** Scenario 3: sync hit, a query object compared by value. */
  async "memory-object"() {
    const memoized = Mime()(function search(query: Query) {
      return query.userId * 10 + query.page;
    });
    const { prefill, calls } = queryArguments();
    syncBatch(memoized, [prefill])();
    return syncBatch(memoized, [calls]);
  },
  /** Scenario 4: async hit, one number. */
  async "memory-async"() {
    const memoized = Mime()(async function fetchPrice(id: number) {
      return id * 2 + 1;
    });
    return asyncBatch(memoized, [primitiveArguments()]);
  },
  /** Scenario 5: 100 concurrent misses of a new key. */
  async "concurrent-misses"() {
    const memoized = Mime()(async function load(id: number) {
      await new Promise((resolve) => setImmediate(resolve));
      return id;
    });
    let key = 0;
    return async () => {
      key++;
      const pending: Promise<number>[] = [];
      for (let i = 0; i < 100; i++) pending.push(memoized(key));
      await Promise.all(pending);
    };
  },
  /** Scenario 7: Redis hits, 100 in flight. */
  async "redis-inflight"(context) {
    const state = await redisState(context, "inflight");
    const memoized = Mime({ ttl: 3_600, state, name: "profile.loadUser" })(async function loadUser(id: number) {
      return record(id);
    });
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    await concurrentBatch(memoized, [ids], "id")();
    return concurrentBatch(memoized, [ids], "id");
  },
  /** Scenario 6: Redis hits, one awaited call at a time. */
  async "redis-sequential"(context) {
    const state = await redisState(context, "sequential");
    const memoized = Mime({ ttl: 3_600, state, name: "profile.loadUserSequential" })(async function loadUser(id: number) {
      return record(id);
    });
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    return asyncBatch(memoized, [ids], "id");
  },
  /** Scenario 7's reference, for comparison: raw node-redis GET + v8.deserialize, 100 in flight. */
  async "redis-inflight-raw"(context) {
    const raw = await rawRedisClient(context, await context.redis());
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    return concurrentBatch(await rawGetAndDeserialize(raw, "profile-raw", ids, record), [ids], "id");
  },
  /** Scenario 8: sync Redis hit through the worker bridge. */
  async "redis-sync"(context) {
    const state = await redisState(context, "sync");
    const memoized = Mime({ ttl: 3_600, state, name: "profile.loadUserSync" })(function loadUserSync(id: number) {
      return record(id);
    });
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    return syncBatch(memoized, [ids], "id");
  },
  /** Scenario 9: sync temp-file hit. */
  async "file-sync"(context) {
    const TempFileState = await context.tempFileState();
    const state = new TempFileState({ basePath: context.tempDir("profile") });
    context.defer(() => state.close?.());
    const memoized = Mime({ ttl: 3_600, state, name: "profile.file" })(function loadUserSync(id: number) {
      return record(id);
    });
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    return syncBatch(memoized, [ids], "id");
  },
  /** Scenario 10a: a miss and store of a 1 KiB value on the memory state, then invalidate. */
  async "memory-miss"() {
    const payload = payloadOfSize(1_024);
    const memoized = Mime({ ttl: 3_600 })(function buildMemory(_id: number) {
      return payload;
    });
    return () => {
      for (let i = 0; i < 256; i++) {
        memoized(7);
        memoized.invalidate(7);
      }
    };
  },
  /** Scenario 10a, async: a miss and store of a 1 KiB value on the memory state, then invalidate. */
  async "memory-miss-async"() {
    const payload = payloadOfSize(1_024);
    const memoized = Mime({ ttl: 3_600 })(async function loadMemory(_id: number) {
      return payload;
    });
    return async () => {
      for (let i = 0; i < 64; i++) {
        await memoized(7);
        await memoized.invalidate(7);
      }
    };
  },
  /** Scenario 10c: a sync miss and store of a 100 KiB value on a temp-file state, then invalidate. */
  async "file-miss-sync"(context) {
    const TempFileState = await context.tempFileState();
    const state = new TempFileState({ basePath: context.tempDir("profile-miss") });
    context.defer(() => state.close?.());
    const payload = payloadOfSize(100 * 1_024);
    const memoized = Mime({ ttl: 3_600, state, name: "profile.fileMiss" })(function buildFile(_id: number) {
      return payload;
    });
    return () => {
      memoized(7);
      memoized.invalidate(7);
    };
  },
  /** Scenario 10c, async: a 1 KiB miss and store on a temp-file state, then invalidate. */
  async "file-miss-async"(context) {
    const TempFileState = await context.tempFileState();
    const state = new TempFileState({ basePath: context.tempDir("profile-miss-async") });
    context.defer(() => state.close?.());
    const payload = payloadOfSize(1_024);
    const memoized = Mime({ ttl: 3_600, state, name: "profile.fileMissAsync" })(async function loadFile(_id: number) {
      return payload;
    });
    return async () => {
      await memoized(7);
      await memoized.invalidate(7);
    };
  },
};

export const hotPathNames = Object.keys(paths);

async function main(): Promise<void> {
  const [name, secondsText] = process.argv.slice(2);
  const build = name === undefined ? undefined : paths[name];
  if (build === undefined) throw new Error(`usage: hot-path.ts <${hotPathNames.join("|")}> [seconds]`);
  const seconds = Number(secondsText ?? 5);
  const context = new RunContext(quickSettings);
  try {
    const loop = await build(context);
    await loop(); // fills the cache
    const end = performance.now() + seconds * 1000;
    let batches = 0;
    while (performance.now() < end) {
      // Synchronous loops run in chunks, so timers (e.g. a state's sweep) still get their turn.
      for (let i = 0; i < 64; i++) await loop();
      batches += 64;
    }
    console.log(`${name}: ${batches} batches in ${seconds} s`);
  } finally {
    await context.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
