import { Mime } from "@mimic/core";
import memoizee from "memoizee";
import { checksumOf, hitCase } from "../cases.js";
import { type Query, queryArguments } from "../data.js";
import { atMost } from "../goals.js";
import { measureCases } from "../measure.js";
import { jsonMapMemo, lruMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { fastMemoize, moize } from "./interop.js";

const JSON_MEMO = "JSON.stringify-keyed Map memo";
const MIMIC = "Mimic: Mime()(fn)";

function counted() {
  let calls = 0;
  return {
    fn: function search(query: Query): number {
      calls++;
      return query.userId * 10 + query.page;
    },
    executions: () => calls,
  };
}

type Fn = (query: Query) => number;

const table = {
  id: "3",
  title: "Memory hit, one plain-object argument compared by value",
  measures:
    "one sync call with a query object equal by value to a cached one but built separately (6 fields, nested object and array; 256 distinct queries)",
};

export const memoryObject: Scenario = {
  id: "3",
  title: table.title,
  tables: [table],
  async run(context) {
    const { prefill, calls } = queryArguments();
    const columns = [calls];
    const expected = await checksumOf(counted().fn, columns);
    const make = async (name: string, wrap: (fn: Fn) => (query: Query) => unknown, reference = false) => {
      const c = counted();
      return hitCase({
        name,
        reference,
        memoized: wrap(c.fn),
        columns,
        prefill: [prefill],
        mode: "sync",
        expected,
        executions: c.executions,
      });
    };
    const cases = [
      await make(JSON_MEMO, (fn) => jsonMapMemo(fn), true),
      await make(MIMIC, (fn) => Mime()(fn)),
      await make("memoizee { normalizer: JSON.stringify }", (fn) =>
        memoizee(fn, { normalizer: (args) => JSON.stringify(args[0]) }),
      ),
      await make("moize { isDeepEqual: true, maxSize: 256 }", (fn) => moize(fn, { isDeepEqual: true, maxSize: 256 })),
      await make("moize { isSerialized: true, maxSize: 256 }", (fn) => moize(fn, { isSerialized: true, maxSize: 256 })),
      await make("fast-memoize (JSON.stringify)", (fn) => fastMemoize(fn)),
      await make("lru-cache memo (JSON.stringify key)", (fn) => lruMemo(fn, 1024, (query: Query) => JSON.stringify(query))),
    ];
    const rows = await measureCases(cases, context.settings);
    return [
      {
        ...table,
        rows,
        goals: [atMost("(3, issue 18) ≤ 0.9× the JSON.stringify-keyed memo, keys still canonical and type-tagged", rows, MIMIC, JSON_MEMO, 0.9)],
        notes: [
          "The call objects have the same key order as the cached ones, which JSON.stringify-keyed memos need; Mimic's canonical key also matches reordered keys.",
        ],
      },
    ];
  },
};
