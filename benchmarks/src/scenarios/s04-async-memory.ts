import { Mime } from "@mimic/core";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { createCache } from "cache-manager";
import memoizee from "memoizee";
import pMemoize from "p-memoize";
import { checksumOf, hitCase } from "../cases.js";
import { primitiveArguments } from "../data.js";
import { atMost } from "../goals.js";
import { measureCases } from "../measure.js";
import { handPromiseMemo } from "../peers.js";
import type { Scenario } from "../scenario.js";
import { moize } from "./interop.js";

const P_MEMOIZE = "p-memoize";
const MIMIC = "Mimic: Mime()(asyncFn)";

function counted() {
  let calls = 0;
  return {
    fn: async function fetchPrice(id: number): Promise<number> {
      calls++;
      return id * 2 + 1;
    },
    executions: () => calls,
  };
}

type Fn = (id: number) => Promise<number>;

const table = {
  id: "4",
  title: "Async memory hit",
  measures: "one awaited call of an async function with a number argument that is already cached (256 distinct ids)",
};

export const asyncMemory: Scenario = {
  id: "4",
  title: table.title,
  tables: [table],
  async run(context) {
    const ids = primitiveArguments();
    const columns = [ids];
    const expected = await checksumOf(counted().fn, columns);
    const make = async (name: string, wrap: (fn: Fn) => (id: number) => unknown, reference = false) => {
      const c = counted();
      return hitCase({ name, reference, memoized: wrap(c.fn), columns, mode: "await", expected, executions: c.executions });
    };
    const cacheManager = createCache();
    context.defer(() => cacheManager.disconnect());
    const bento = new BentoCache({
      default: "memory",
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 1024 })) },
    });
    context.defer(() => bento.disconnectAll());
    const cases = [
      await make(P_MEMOIZE, (fn) => pMemoize(fn), true),
      await make(MIMIC, (fn) => Mime()(fn)),
      await make("Mimic: Mime({ ttl: 60 })(asyncFn)", (fn) => Mime({ ttl: 60 })(fn)),
      await make("hand-written promise Map memo", (fn) => handPromiseMemo(fn)),
      await make("memoizee { promise: true, primitive: true }", (fn) => memoizee(fn, { promise: true, primitive: true })),
      await make("moize { isPromise: true, maxSize: 256 }", (fn) => moize(fn, { isPromise: true, maxSize: 256 })),
      await make("cache-manager wrap (default memory store)", (fn) => (id: number) => cacheManager.wrap(`price:${id}`, () => fn(id))),
      await make("bentocache getOrSet (memory driver)", (fn) => (id: number) =>
        bento.getOrSet({ key: `price:${id}`, factory: () => fn(id), ttl: "1h" }),
      ),
    ];
    const rows = await measureCases(cases, context.settings);
    return [
      {
        ...table,
        rows,
        goals: [atMost("(4) ≤ ½ p-memoize", rows, MIMIC, P_MEMOIZE, 0.5)],
        notes: [
          "Each op includes the caller's await. bentocache's memory driver serializes entries by default (its documented default, `serialize: true`).",
        ],
      },
    ];
  },
};
