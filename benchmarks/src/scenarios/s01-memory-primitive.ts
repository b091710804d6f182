import { Mime } from "@mimic/core";
import memoizee from "memoizee";
import { checksumOf, hitCase } from "../cases.js";
import { primitiveArguments } from "../data.js";
import { atMost, fasterBy, fasterThanAll, fastestOf } from "../goals.js";
import { measureCases } from "../measure.js";
import { handMapMemo, lruMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { fastMemoize, moize } from "./interop.js";

const HAND = "hand-written Map memo";
const MEMOIZEE_PRIMITIVE_NAME = "memoizee { primitive: true }";
const MEMOIZEE_DEFAULT_NAME = "memoizee (default mode)";
const MEMOIZEE_PRIMITIVE = MEMOIZEE_PRIMITIVE_NAME;
const MEMOIZEE_DEFAULT = MEMOIZEE_DEFAULT_NAME;
const MIMIC = "Mimic: Mime()(fn)";
const MIMIC_TTL = "Mimic: Mime({ ttl: 60 })(fn)";
const PEERS = [MEMOIZEE_PRIMITIVE_NAME, MEMOIZEE_DEFAULT_NAME, "moize { maxSize: 256 }", "fast-memoize", "lru-cache memo { max: 1024 }"];


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
      await make(MIMIC_TTL, (fn) => Mime({ ttl: 60 })(fn)),
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
          atMost("(1, issue 18) with ttl: 60, ≤ 1.5× the hand-written Map memo (no ttl)", rows, MIMIC_TTL, HAND, 1.5),
          fasterThanAll("(1, issue 18) with ttl: 60, faster than every peer row", rows, MIMIC_TTL, PEERS),
          atMost("(1, issue 18) without ttl, ≤ 1.3× the hand-written Map memo", rows, MIMIC, HAND, 1.3),
          fasterBy(`(1b) ≥ 3× faster than memoizee (its faster mode here: ${memoizeeBest})`, rows, MIMIC, memoizeeBest, 3),
        ],
        notes: [
          "No row expires entries except the ttl row; Mimic rows use the default global MemoryState (bound 10,000).",
        ],
      },
    ];
  },
};
