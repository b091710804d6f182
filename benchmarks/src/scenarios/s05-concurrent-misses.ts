import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { Mime } from "@mimic/core";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { createCache } from "cache-manager";
import memoizee from "memoizee";
import pMemoize from "p-memoize";
import { atMost } from "../goals.js";
import { measureCases } from "../measure.js";
import { handPromiseMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import type { Case, Goal, Row } from "../types.js";
import { fastMemoize, moize } from "./interop.js";

const CALLERS = 100;
const P_MEMOIZE = "p-memoize";
const MIMIC = "Mimic: Mime()(asyncFn)";

type Fn = (id: number) => Promise<number>;

/**
 * A burst: 100 calls with one new key, all started before any settles; the function yields to the
 * event loop once (like a fast I/O call). Counts executions per burst and checks every result.
 */
function burstCase(name: string, wrap: (fn: Fn) => Fn, reference = false): Case {
  let executions = 0;
  const fn = async function load(id: number): Promise<number> {
    executions++;
    await yieldToEventLoop();
    return id * 2 + 1;
  };
  const memoized = wrap(fn);
  let nextKey = 1;
  let bursts = 0;
  let minPerBurst = Infinity;
  let maxPerBurst = 0;
  const pending: Promise<number>[] = new Array<Promise<number>>(CALLERS);
  return {
    name,
    ...(reference ? { reference: true } : {}),
    ops: 1,
    async: true,
    async run() {
      const key = nextKey++;
      const before = executions;
      for (let i = 0; i < CALLERS; i++) pending[i] = memoized(key);
      const results = await Promise.all(pending);
      for (const result of results) if (result !== key * 2 + 1) throw new Error(`${name} returned ${result} for key ${key}`);
      const ran = executions - before;
      bursts++;
      if (ran < minPerBurst) minPerBurst = ran;
      if (ran > maxPerBurst) maxPerBurst = ran;
    },
    extra: () => ({
      "executions / 100 calls": minPerBurst === maxPerBurst ? String(maxPerBurst) : `${minPerBurst}–${maxPerBurst}`,
      bursts,
    }),
  };
}

function exactlyOne(rows: readonly Row[]): Goal {
  const row = rows.find((r) => r.name === MIMIC);
  const text = "(5) exactly one execution per 100 concurrent calls";
  if (row === undefined) return { text, met: null, detail: `row missing: ${MIMIC}` };
  const executions = String(row.extra["executions / 100 calls"]);
  return { text, met: executions === "1", detail: `${MIMIC}: ${executions} execution(s) per burst over ${row.extra.bursts} bursts` };
}

const table = {
  id: "5",
  title: "100 concurrent misses of one key",
  measures: "a burst of 100 calls with one new key started together, until all settle (the function yields to the event loop once)",
};

export const concurrentMisses: Scenario = {
  id: "5",
  title: table.title,
  tables: [table],
  async run(context) {
    const cacheManager = createCache();
    context.defer(() => cacheManager.disconnect());
    const bento = new BentoCache({
      default: "memory",
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
    });
    context.defer(() => bento.disconnectAll());
    const cases = [
      burstCase(P_MEMOIZE, (fn) => pMemoize(fn), true),
      burstCase(MIMIC, (fn) => Mime()(fn)),
      burstCase("hand-written promise Map memo", (fn) => handPromiseMemo(fn)),
      burstCase("memoizee { promise: true, primitive: true }", (fn) => memoizee(fn, { promise: true, primitive: true })),
      burstCase("moize { isPromise: true, maxSize: 256 }", (fn) => moize(fn, { isPromise: true, maxSize: 256 })),
      burstCase("fast-memoize (caches the promise)", (fn) => fastMemoize(fn)),
      burstCase("cache-manager wrap (default memory store)", (fn) => (id) => cacheManager.wrap(`load:${id}`, () => fn(id))),
      burstCase("bentocache getOrSet (memory driver)", (fn) => (id) =>
        bento.getOrSet({ key: `load:${id}`, factory: () => fn(id), ttl: "1h" }),
      ),
    ];
    const rows = await measureCases(cases, context.settings);
    return [
      {
        ...table,
        rows,
        goals: [exactlyOne(rows), atMost("(5, issue 18) burst settle time ≤ 1.5× p-memoize", rows, MIMIC, P_MEMOIZE, 1.5)],
        notes: ["Ratios compare the time for the whole burst to settle; the executions column is the point of this scenario."],
      },
    ];
  },
};
