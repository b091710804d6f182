import { Mime } from "@mimic/core";
import { checksumOf, hitCase } from "../cases.js";
import { countedLoadUser, countedLoadUserSync, record } from "../data.js";
import { atMost } from "../goals.js";
import { measureCases } from "../measure.js";
import { mimicRedisState, rawGetAndDeserialize, rawRedisClient, REDIS_TTL_SECONDS } from "../redis-peers.js";
import type { Scenario } from "../scenario.js";

const ASYNC = "Mimic async hit: Mime({ ttl, state: RedisState, name })(asyncFn)";
const SYNC = "Mimic sync hit: Mime({ ttl, state: RedisState, name })(syncFn)";

const table = {
  id: "8",
  title: "Sync Redis hit through the worker bridge",
  measures: "one call whose record is in Redis (64 distinct ids, one call at a time): the sync call blocks on the worker thread",
};

export const redisSync: Scenario = {
  id: "8",
  title: table.title,
  tables: [table],
  async run(context) {
    const state = await mimicRedisState(context, "s8");
    const server = await context.redis();
    const raw = await rawRedisClient(context, server);
    const ids = Array.from({ length: 64 }, (_, i) => i + 1);
    const columns = [ids];
    const loadUser = countedLoadUser();
    const loadUserSync = countedLoadUserSync();
    const expected = await checksumOf(loadUserSync.fn, columns, "id");
    const cases = [
      await hitCase({
        name: ASYNC,
        reference: true,
        memoized: Mime({ ttl: REDIS_TTL_SECONDS, state, name: "s8.loadUser" })(loadUser.fn),
        columns,
        mode: "await",
        expected,
        consume: "id",
        executions: loadUser.executions,
      }),
      await hitCase({
        name: SYNC,
        memoized: Mime({ ttl: REDIS_TTL_SECONDS, state, name: "s8.loadUserSync" })(loadUserSync.fn),
        columns,
        mode: "sync",
        expected,
        consume: "id",
        executions: loadUserSync.executions,
      }),
      await hitCase({
        name: "raw node-redis GET + v8.deserialize (async, for scale)",
        memoized: await rawGetAndDeserialize(raw, "raw-s8", ids, record),
        columns,
        mode: "await",
        expected,
        consume: "id",
        executions: () => 0,
      }),
    ];
    const rows = await measureCases(cases, context.settings);
    return [
      {
        ...table,
        rows,
        goals: [atMost("(8) sync hit ≤ 2× the async hit", rows, SYNC, ASYNC, 2)],
        notes: ["The sync row blocks the calling thread (Atomics.wait) while the worker thread does the round trip."],
      },
    ];
  },
};
