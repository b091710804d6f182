import { channel } from "node:diagnostics_channel";
import { MemoryState, Mime, type CacheEntry } from "@mimic/core";
import type { LocalPartition } from "@mimic/core/state-kit";
import memoizee from "memoizee";
import { checksumOf, hitCase } from "../cases.js";
import { primitiveArguments, type Query, queryArguments, twoArgumentColumns } from "../data.js";
import { measureCases } from "../measure.js";
import { formatRatio, formatTime } from "../report.js";
import type { Case } from "../types.js";

/**
 * Prototypes of the hot-path changes suggested in README.md ("What dominates the remaining cost"),
 * measured with the benchmarks' harness next to Mimic and the scenario's reference. They are
 * sketches to size a change, not implementations: they skip what Mimic must also do on a miss.
 *
 *   tsx src/profile/what-if.ts [primitive|pairs|object]...
 */

interface Entry {
  value: number;
  expiresAt: number;
  recent: boolean;
}

const settings = { quick: false, timeMs: 3_000, warmupMs: 300, rounds: 12, minIterations: 8 } as const;

/** A partition-like index over a bare Map, with the entry fields a hit reads and writes. */
class BareLone {
  readonly lone = new Map<unknown, Entry & { hits: number }>();
  getLone(arg: unknown): CacheEntry | undefined {
    const entry = this.lone.get(arg);
    if (entry === undefined || (entry.expiresAt !== Infinity && entry.expiresAt <= Date.now())) return undefined;
    entry.hits = 1;
    return entry;
  }
  setLone(arg: unknown, value: unknown): void {
    this.lone.set(arg, { value: value as number, expiresAt: Infinity, recent: false, hits: 0 });
  }
}

/**
 * The wrapper's hot path as memoize.ts writes it (binding, call kind, arity, \`this\`, generation, the
 * keyability test, the \`mimic:hit\` subscriber check, the hit counter), around a given partition: with
 * a bare Map it separates the wrapper's checks from the partition's own cost.
 */
function wrapperChecksAround(partition: Pick<LocalPartition, "getLone" | "setLone">, plain: (id: number) => number): (id: number) => number {
  const hitChannel = channel("mimic:hit");
  const generationSlot = { generation: 1 };
  const keyable = (value: unknown): boolean =>
    (typeof value === "number" && (value !== 0 || 1 / value > 0)) || (typeof value === "string" && value.length <= 64);
  const memo = {
    asyncMode: false,
    binding: { fastSync: partition as typeof partition | undefined, fastAsync: undefined, generation: 1 },
    counters: { hits: 0 },
    settings: { state: undefined as unknown },
  };
  return function (this: unknown, first?: unknown, second?: unknown): unknown {
    const b = memo.binding;
    const fast = memo.asyncMode ? b?.fastAsync : b?.fastSync;
    const arity = arguments.length;
    if (fast !== undefined && arity <= 2 && this === undefined && (memo.settings.state !== undefined || b.generation === generationSlot.generation)) {
      if (keyable(first) && (arity === 1 || keyable(second))) {
        const entry = fast.getLone(first);
        if (entry !== undefined && !hitChannel.hasSubscribers) {
          memo.counters.hits++;
          return memo.asyncMode ? Promise.resolve(entry.value) : entry.value;
        }
      }
    }
    const value = plain(first as number);
    partition.setLone(first, value, null);
    return value;
  } as (id: number) => number;
}

/**
 * Scenario 1: the hand memo, a wrapper specialised at bind time, and Mimic's own wrapper checks around
 * a bare Map and around MemoryState's partitions (where the rest of a hit's cost is).
 */
async function primitive(): Promise<Case[]> {
  const ids = primitiveArguments();
  const plain = (id: number): number => id * 2 + 1;
  const expected = await checksumOf(plain, [ids]);
  const handMemo = (() => {
    const cache = new Map<number, number>();
    return (id: number) => {
      let value = cache.get(id);
      if (value === undefined) cache.set(id, (value = plain(id)));
      return value;
    };
  })();
  // What a bind-time specialised wrapper would do: the partition's Map captured, the entry checked inline.
  const specialised = (() => {
    const lone = new Map<unknown, Entry>();
    const counters = { hits: 0 };
    let generation = 0;
    return function (this: unknown): number {
      if (generation !== 0) throw new Error("re-bind");
      if (arguments.length === 1 && this === undefined) {
        const arg: unknown = arguments[0];
        if (typeof arg === "number" && !Object.is(arg, -0)) {
          const entry = lone.get(arg);
          if (entry !== undefined && entry.expiresAt === Infinity) {
            entry.recent = true;
            counters.hits++;
            return entry.value;
          }
          const value = plain(arg);
          lone.set(arg, { value, expiresAt: Infinity, recent: false });
          generation = 0;
          return value;
        }
      }
      throw new Error("not sketched");
    } as (id: number) => number;
  })();
  const make = (name: string, memoized: (id: number) => unknown, reference = false) =>
    hitCase({ name, reference, memoized, columns: [ids], mode: "sync", expected, executions: () => 0 });
  return [
    await make("hand-written Map memo", handMemo, true),
    await make("Mimic: Mime()(fn)", Mime()(plain)),
    await make("sketch: wrapper specialised at bind time", specialised),
    await make("sketch: Mimic's wrapper checks around a bare Map", wrapperChecksAround(new BareLone(), plain)),
    await make('sketch: the same around MemoryState({ policy: "lru" })\'s partition', wrapperChecksAround(new MemoryState({ policy: "lru" }).partition("what-if-lru"), plain)),
    await make("sketch: the same around MemoryState's default (tinylfu) partition", wrapperChecksAround(new MemoryState().partition("what-if-tinylfu"), plain)),
  ];
}

/** Scenario 2: a nested-Map trie of the arguments instead of an encoded key string. */
async function pairs(): Promise<Case[]> {
  const columns = twoArgumentColumns();
  const plain = (user: string, page: number): number => user.length * 1_000 + page;
  const expected = await checksumOf(plain, columns);
  const encodedKey = (() => {
    const cache = new Map<string, Entry>();
    return (user: string, page: number) => {
      const key = `A2:s${user.length}:${user}d${page};`;
      const entry = cache.get(key);
      if (entry !== undefined && entry.expiresAt === Infinity) {
        entry.recent = true;
        return entry.value;
      }
      const value = plain(user, page);
      cache.set(key, { value, expiresAt: Infinity, recent: false });
      return value;
    };
  })();
  const trie = (() => {
    const root = new Map<unknown, Map<unknown, Entry>>();
    return function (this: unknown): number {
      if (arguments.length !== 2 || this !== undefined) throw new Error("not sketched");
      const a: unknown = arguments[0];
      const b: unknown = arguments[1];
      const level = root.get(a);
      const entry = level?.get(b);
      if (entry !== undefined && entry.expiresAt === Infinity) {
        entry.recent = true;
        return entry.value;
      }
      const value = plain(a as string, b as number);
      let next = level;
      if (next === undefined) root.set(a, (next = new Map()));
      next.set(b, { value, expiresAt: Infinity, recent: false });
      return value;
    } as (user: string, page: number) => number;
  })();
  const make = (name: string, memoized: (user: string, page: number) => unknown, reference = false) =>
    hitCase({ name, reference, memoized, columns, mode: "sync", expected, executions: () => 0 });
  return [
    await make("memoizee { primitive: true }", memoizee(plain, { primitive: true }), true),
    await make("Mimic: Mime()(fn)", Mime()(plain)),
    await make("sketch: encoded key string, inline", encodedKey),
    await make("sketch: nested-Map trie of the arguments", trie),
  ];
}

const compareCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function primitivePart(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return `s${value.length}:${value}`;
    case "number":
      return Object.is(value, -0) ? "d-0;" : `d${value};`;
    case "boolean":
      return value ? "T" : "F";
    case "undefined":
      return "u";
    case "object":
      return value === null ? "n" : undefined;
    default:
      return undefined;
  }
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
}

/** Same output as key.ts's encodeFast for plain objects and arrays, with the suggested caches. */
function objectEncoder(options: { cacheShapes: boolean; cachePrefixes: boolean; checkSymbols: boolean }): (value: unknown) => string {
  const prefixes = new Map<string, string>();
  const shapes = new Map<string, { keys: string[]; sorted: string[] }>();
  const prefixOf = (key: string): string => {
    if (!options.cachePrefixes) return `s${key.length}:${key}`;
    let prefix = prefixes.get(key);
    if (prefix === undefined) {
      prefix = `s${key.length}:${key}`;
      if (prefixes.size < 10_000) prefixes.set(key, prefix);
    }
    return prefix;
  };
  const sortedKeys = (object: object): string[] => {
    const keys = Object.keys(object);
    if (keys.length < 2 || isSorted(keys)) return keys;
    if (!options.cacheShapes) return keys.sort(compareCodeUnits);
    // Property names are internalised strings, so comparing a shape is a few pointer compares.
    const cached = shapes.get(keys[0]!);
    if (cached !== undefined && cached.keys.length === keys.length && cached.keys.every((key, i) => key === keys[i])) return cached.sorted;
    const sorted = [...keys].sort(compareCodeUnits);
    if (shapes.size < 1_000) shapes.set(keys[0]!, { keys, sorted });
    return sorted;
  };
  const encode = (value: unknown): string => {
    const primitive = primitivePart(value);
    if (primitive !== undefined) return primitive;
    if (Object.getPrototypeOf(value) === Array.prototype) {
      const array = value as unknown[];
      let out = `a${array.length}:`;
      for (let i = 0; i < array.length; i++) out += i in array ? encode(array[i]) : "h";
      if (options.checkSymbols && Object.getOwnPropertySymbols(array).length > 0) throw new Error("careful path");
      return out;
    }
    const object = value as Record<string, unknown>;
    const keys = sortedKeys(object);
    let out = `o${keys.length}:`;
    for (const key of keys) out += prefixOf(key) + encode(object[key]);
    if (options.checkSymbols && Object.getOwnPropertySymbols(object).length > 0) throw new Error("careful path");
    return out;
  };
  return encode;
}

/** Scenario 3: where encodeFast's time goes, by removing one cost at a time. */
async function object(): Promise<Case[]> {
  const { prefill, calls } = queryArguments();
  const plain = (query: Query): number => query.userId * 10 + query.page;
  const expected = await checksumOf(plain, [calls]);
  const memoWith = (keyOf: (query: Query) => string) => {
    const cache = new Map<string, number>();
    return (query: Query) => {
      const key = keyOf(query);
      let value = cache.get(key);
      if (value === undefined) cache.set(key, (value = plain(query)));
      return value;
    };
  };
  const canonical = (o: Parameters<typeof objectEncoder>[0]) => {
    const encode = objectEncoder(o);
    return memoWith((query) => `A1:${encode(query)}`);
  };
  const make = (name: string, memoized: (query: Query) => unknown, reference = false) =>
    hitCase({ name, reference, memoized, columns: [calls], prefill: [prefill], mode: "sync", expected, executions: () => 0 });
  return [
    await make("JSON.stringify-keyed Map memo", memoWith((query) => JSON.stringify([query])), true),
    await make("Mimic: Mime()(fn)", Mime()(plain)),
    await make("sketch: encodeFast as is", canonical({ cacheShapes: false, cachePrefixes: false, checkSymbols: true })),
    await make("sketch: + sorted order cached per shape", canonical({ cacheShapes: true, cachePrefixes: false, checkSymbols: true })),
    await make("sketch: + key prefixes cached", canonical({ cacheShapes: true, cachePrefixes: true, checkSymbols: true })),
    await make("sketch: + no getOwnPropertySymbols", canonical({ cacheShapes: true, cachePrefixes: true, checkSymbols: false })),
  ];
}

const groups: Record<string, () => Promise<Case[]>> = { primitive, pairs, object };

const wanted = process.argv.slice(2).filter((a) => a !== "--");
for (const name of wanted.length > 0 ? wanted : Object.keys(groups)) {
  const build = groups[name];
  if (build === undefined) throw new Error(`unknown group ${name}; groups: ${Object.keys(groups).join(", ")}`);
  const rows = await measureCases(await build(), settings);
  console.log(`\n${name}`);
  for (const row of rows) console.log(`  ${row.name.padEnd(46)} ${formatTime(row.medianNs).padStart(9)}  ${formatRatio(row.ratio)}`);
}
