import { Mime } from "@mimic/core";
import memoizee from "memoizee";
import { checksumOf, hitCase } from "../cases.js";
import { primitiveArguments } from "../data.js";
import { atMost, fasterBy, fastestOf } from "../goals.js";
import { measureCases } from "../measure.js";
import { handMapMemo, lruMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { fastMemoize, moize } from "./interop.js";

const HAND = "hand-written Map memo";
const MIMIC = "Mimic: Mime()(fn)";
const MEMOIZEE_PRIMITIVE = "memoizee { primitive: true }";
const MEMOIZEE_DEFAULT = "memoizee (default mode)";

function counted() {
  let calls = 0;
  return {
    fn: function price(id: number): number {
      calls++;
      return id * 2 + 1;
    },
    executions: () => calls,
  };
}

const table = {
  id: "1",
  title: "Memory hit, one primitive argument",
  measures: "one sync call with a number argument that is already cached (256 distinct ids, shuffled)",
};

export const memoryPrimitive: Scenario = {
  id: "1",
  title: table.title,
  tables: [table],
  async run(context) {
    const ids = primitiveArguments();
    const columns = [ids];
    const expected = await checksumOf(counted().fn, columns);
    const make = async (name: string, wrap: (fn: (id: number) => number) => (id: number) => unknown, reference = false) => {
      const c = counted();
      return hitCase({ name, reference, memoized: wrap(c.fn), columns, mode: "sync", expected, executions: c.executions });
    };
    const cases = [
      await make(HAND, (fn) => handMapMemo(fn), true),
      await make(MIMIC, (fn) => Mime()(fn)),
      await make("Mimic: Mime({ ttl: 60 })(fn)", (fn) => Mime({ ttl: 60 })(fn)),
      await make(MEMOIZEE_PRIMITIVE, (fn) => memoizee(fn, { primitive: true })),
      await make(MEMOIZEE_DEFAULT, (fn) => memoizee(fn)),
      await make("moize { maxSize: 256 }", (fn) => moize(fn, { maxSize: 256 })),
      await make("fast-memoize", (fn) => fastMemoize(fn)),
      await make("lru-cache memo { max: 1024 }", (fn) => lruMemo(fn, 1024, (id: number) => id)),
    ];
    const rows = await measureCases(cases, context.settings);
    const memoizeeBest = fastestOf(rows, [MEMOIZEE_PRIMITIVE, MEMOIZEE_DEFAULT])?.name ?? MEMOIZEE_PRIMITIVE;
    return [
      {
        ...table,
        rows,
        goals: [
          atMost("(1a) ≤ 2× the hand-written Map memo", rows, MIMIC, HAND, 2),
          fasterBy(`(1b) ≥ 3× faster than memoizee (its faster mode here: ${memoizeeBest})`, rows, MIMIC, memoizeeBest, 3),
        ],
        notes: [
          "No row expires entries except the ttl row; Mimic rows use the default global MemoryState (bound 10,000).",
        ],
      },
    ];
  },
};
