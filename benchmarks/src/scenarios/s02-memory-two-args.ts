import { Mime } from "@mimic/core";
import memoizee from "memoizee";
import { checksumOf, hitCase } from "../cases.js";
import { twoArgumentColumns } from "../data.js";
import { atMost, fastestOf } from "../goals.js";
import { measureCases } from "../measure.js";
import { handJoinedKeyMemo, jsonMapMemo, lruMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { fastMemoize, moize } from "./interop.js";

const MIMIC = "Mimic: Mime()(fn)";
const MEMOIZEE_PRIMITIVE = "memoizee { primitive: true }";
const MEMOIZEE_DEFAULT = "memoizee (default mode)";

function counted() {
  let calls = 0;
  return {
    fn: function pageOf(user: string, page: number): number {
      calls++;
      return user.length * 1_000 + page;
    },
    executions: () => calls,
  };
}

type Fn = (user: string, page: number) => number;

const table = {
  id: "2",
  title: "Memory hit, two arguments over 1,024 distinct keys",
  measures: "one sync call (string, number) already cached; 32 users × 32 pages, shuffled",
};

export const memoryTwoArguments: Scenario = {
  id: "2",
  title: table.title,
  tables: [table],
  async run(context) {
    const columns = twoArgumentColumns();
    const expected = await checksumOf(counted().fn, columns);
    const make = async (name: string, wrap: (fn: Fn) => (user: string, page: number) => unknown, reference = false) => {
      const c = counted();
      return hitCase({ name, reference, memoized: wrap(c.fn), columns, mode: "sync", expected, executions: c.executions });
    };
    const cases = [
      await make(MEMOIZEE_PRIMITIVE, (fn) => memoizee(fn, { primitive: true }), true),
      await make(MEMOIZEE_DEFAULT, (fn) => memoizee(fn)),
      await make(MIMIC, (fn) => Mime()(fn)),
      await make("Mimic: Mime({ ttl: 60 })(fn)", (fn) => Mime({ ttl: 60 })(fn)),
      await make("hand-written Map memo (joined key)", (fn) => handJoinedKeyMemo(fn)),
      await make("JSON.stringify-keyed Map memo", (fn) => jsonMapMemo(fn)),
      await make("moize { maxSize: 1024 }", (fn) => moize(fn, { maxSize: 1024 })),
      await make("fast-memoize", (fn) => fastMemoize(fn)),
      await make("lru-cache memo (joined key)", (fn) => lruMemo(fn, 2048, (user: string, page: number) => `${user}\u0000${page}`)),
    ];
    const rows = await measureCases(cases, context.settings);
    const memoizeeBest = fastestOf(rows, [MEMOIZEE_PRIMITIVE, MEMOIZEE_DEFAULT])?.name ?? MEMOIZEE_PRIMITIVE;
    return [
      {
        ...table,
        rows,
        goals: [
          atMost(`(2) ≤ memoizee (its faster mode here: ${memoizeeBest})`, rows, MIMIC, memoizeeBest, 1),
          atMost(`(2, issue 18) with ttl: 60, ≤ 0.6× memoizee (its faster mode here: ${memoizeeBest})`, rows, "Mimic: Mime({ ttl: 60 })(fn)", memoizeeBest, 0.6),
        ],
        notes: ["memoizee's primitive mode is what its README recommends for hot functions with primitive arguments."],
      },
    ];
  },
};
