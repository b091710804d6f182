import {
  encodeArguments,
  encodeCustomKey,
  isLoneKeyable,
  supportsPrefixDeletion,
  supportsTags,
  type CacheEntry,
  type SetOptions,
} from "@mimic/core";
import { type LocalPartition, type PartitionedState } from "@mimic/core/state-kit";
import { ConformanceError, expectHit, expectMiss } from "../assertions.js";
import { localNamespace, sharedNamespace } from "../fixtures/namespaces.js";
import { preview, showKey } from "../format.js";
import type { SuiteContext } from "../harness.js";
import { asyncOperations, checkEntry, notThenable, syncOperations, type Operations } from "../operations.js";
import type { Scenario } from "../scenarios.js";

/** Lone arguments a partition indexes by value (core's `isLoneKeyable` accepts each). */
const loneArguments: readonly unknown[] = [
  0, 1.5, -1, NaN, Infinity, -Infinity, 2 ** 53, "", "1", "a|b:c", "é😀\uD800", "x".repeat(256), true, false, undefined, null, 10n, -10n,
];

/** Argument parts that are not a lone keyable argument's: a partition addresses them as strings. */
function otherArgumentKeys(): string[] {
  return [
    encodeArguments([]),
    encodeArguments([1, 2]),
    encodeArguments([-0]),
    encodeArguments(["x".repeat(257)]),
    encodeArguments([{ a: 1 }]),
    encodeArguments([[1]]),
    encodeCustomKey("user:42"),
  ];
}

const SHORT_TTL = 0.2;
const PAST_EXPIRY = 0.45;

function show(arg: unknown): string {
  return typeof arg === "string" ? showKey(arg) : preview(arg);
}

/** A partition's operations, checked: synchronous, and reads shaped as entries. */
function checked(state: PartitionedState, partition: LocalPartition) {
  const name = `partition(${showKey(partition.namespace)})`;
  return {
    getLone(arg: unknown): CacheEntry | undefined {
      const call = `${name}.getLone(${show(arg)})`;
      return checkEntry(notThenable(state, call, call, partition.getLone(arg)), call);
    },
    setLone(arg: unknown, value: unknown, ttl: number | null, options?: SetOptions): void {
      const call = `${name}.setLone(${show(arg)}, …)`;
      notThenable(state, call, call, options === undefined ? partition.setLone(arg, value, ttl) : partition.setLone(arg, value, ttl, options));
    },
    getPair(first: unknown, second: unknown): CacheEntry | undefined {
      const call = `${name}.getPair(${show(first)}, ${show(second)})`;
      return checkEntry(notThenable(state, call, call, partition.getPair(first, second)), call);
    },
    setPair(first: unknown, second: unknown, value: unknown, ttl: number | null): void {
      const call = `${name}.setPair(${show(first)}, ${show(second)}, …)`;
      notThenable(state, call, call, partition.setPair(first, second, value, ttl));
    },
    get(argumentsKey: string): CacheEntry | undefined {
      const call = `${name}.get(${showKey(argumentsKey)})`;
      return checkEntry(notThenable(state, call, call, partition.get(argumentsKey)), call);
    },
    set(argumentsKey: string, value: unknown, ttl: number | null, options?: SetOptions): void {
      const call = `${name}.set(${showKey(argumentsKey)}, …)`;
      notThenable(state, call, call, options === undefined ? partition.set(argumentsKey, value, ttl) : partition.set(argumentsKey, value, ttl, options));
    },
    dispose(): void {
      notThenable(state, `${name}.dispose()`, `${name}.dispose()`, partition.dispose());
    },
  };
}

function openPartition(state: PartitionedState, namespace: string) {
  const partition = state.partition(namespace);
  if (typeof partition !== "object" || partition === null || partition.namespace !== namespace) {
    throw new ConformanceError(
      `partition(${showKey(namespace)}) returned ${preview(partition)}; expected a partition whose namespace is ${showKey(namespace)}`,
    );
  }
  return checked(state, partition);
}

/** The key of a call with a lone argument: the namespace, then `A1:` and the argument's encoding. */
function loneKey(namespace: string, arg: unknown): string {
  if (!isLoneKeyable(arg)) throw new ConformanceError(`the suite's lone argument ${show(arg)} is not lone-keyable for core`);
  return namespace + encodeArguments([arg]);
}

/** Partitions of process-local states: the same entries as the string-keyed API, under documented keys. */
export function partitionScenarios(context: SuiteContext): Scenario<PartitionedState>[] {
  /** The string-keyed halves the state claims, to read and write partition entries through. */
  const halves = (state: PartitionedState): [string, Operations][] => [
    ["get", asyncOperations.bind(state)],
    ...(context.options.capabilities.sync ? [["getSync", syncOperations.bind(state)] as [string, Operations]] : []),
  ];
  const namespace = localNamespace("s", "1", "f");

  return [
    {
      title: 'a lone argument written with setLone is read by getLone and by get/getSync under namespace + "A1:" + its encoding',
      async run(env) {
        const state = await env.create();
        const partition = openPartition(state, namespace);
        for (const [i, arg] of loneArguments.entries()) partition.setLone(arg, i === 0 ? undefined : { i }, null);
        expectMiss(partition.getLone("never set"), 'getLone("never set")');
        for (const [i, arg] of loneArguments.entries()) {
          const expected = i === 0 ? undefined : { i };
          expectHit(partition.getLone(arg), expected, `getLone(${show(arg)})`);
          for (const [read, half] of halves(state)) {
            const key = loneKey(namespace, arg);
            expectHit(await half.get(key), expected, `${read}(${showKey(key)}) of an entry written with setLone(${show(arg)})`);
          }
        }
      },
    },
    {
      title: 'an entry written with set/setSync under namespace + "A1:" + an encoding is read by getLone of that argument',
      async run(env) {
        const state = await env.create();
        const partition = openPartition(state, namespace);
        for (const [write, half] of halves(state)) {
          const setter = write === "get" ? "set" : "setSync";
          for (const [i, arg] of loneArguments.entries()) await half.set(loneKey(namespace, arg), i === 1 ? undefined : { i, setter }, null);
          for (const [i, arg] of loneArguments.entries()) {
            const key = loneKey(namespace, arg);
            expectHit(partition.getLone(arg), i === 1 ? undefined : { i, setter }, `getLone(${show(arg)}) of an entry written with ${setter}(${showKey(key)})`);
          }
        }
      },
    },
    {
      title: 'two arguments written with setPair are read by getPair, by get/getSync under namespace + "A2:" + their encodings, and the other way round',
      async run(env) {
        const state = await env.create();
        const partition = openPartition(state, namespace);
        const pairs: [unknown, unknown][] = [
          [1, 2],
          [2, 1],
          ["1", 2],
          [12, undefined],
          [null, "a|b"],
          [true, 10n],
        ];
        for (const [i, [first, second]] of pairs.entries()) partition.setPair(first, second, { i }, null);
        expectMiss(partition.getPair(1, 3), "getPair(1, 3)");
        expectMiss(partition.getLone(1), "getLone(1) after only pairs were written");
        for (const [i, [first, second]] of pairs.entries()) {
          expectHit(partition.getPair(first, second), { i }, `getPair(${show(first)}, ${show(second)})`);
          const argumentsKey = encodeArguments([first, second]);
          expectHit(partition.get(argumentsKey), { i }, `get(${showKey(argumentsKey)}) of a pair written with setPair`);
          for (const [read, half] of halves(state)) {
            const key = namespace + argumentsKey;
            expectHit(await half.get(key), { i }, `${read}(${showKey(key)}) of an entry written with setPair`);
          }
        }
        for (const [write, half] of halves(state)) {
          await half.set(namespace + encodeArguments([7, "x"]), write, null);
          expectHit(partition.getPair(7, "x"), write, `getPair(7, "x") of an entry written with ${write === "get" ? "set" : "setSync"}`);
        }
      },
    },
    {
      title: "other argument lists: a partition's set/get address namespace + argumentsKey, both ways",
      async run(env) {
        const state = await env.create();
        const partition = openPartition(state, namespace);
        const keys = otherArgumentKeys();
        for (const [read, half] of halves(state)) {
          for (const [i, argumentsKey] of keys.entries()) partition.set(argumentsKey, { i }, null);
          for (const [i, argumentsKey] of keys.entries()) {
            const key = namespace + argumentsKey;
            expectHit(await half.get(key), { i }, `${read}(${showKey(key)}) of an entry written with the partition's set(${showKey(argumentsKey)})`);
            await half.set(key, { i, read }, null);
            expectHit(partition.get(argumentsKey), { i, read }, `the partition's get(${showKey(argumentsKey)}) after writing ${showKey(key)}`);
          }
        }
      },
    },
    {
      title: "dispose removes the partition's entries, whichever API wrote them, and no other namespace's; the namespace can be used again",
      async run(env) {
        const state = await env.create();
        const async = asyncOperations.bind(state);
        const neighbours = [localNamespace("s", "12", "f"), localNamespace("s", "1.2", "f"), localNamespace("s", "1", "ff"), sharedNamespace("s", "f")];
        const partitions = new Map([namespace, ...neighbours].map((ns) => [ns, openPartition(state, ns)]));
        for (const [ns, partition] of partitions) {
          partition.setLone(1, `${ns} lone`, null);
          partition.set(encodeArguments([1, 2]), `${ns} list`, 600);
          await async.set(loneKey(ns, "s"), `${ns} string API`, null);
        }
        partitions.get(namespace)!.dispose();
        for (const ns of [namespace, ...neighbours]) {
          const gone = ns === namespace;
          const expectations: [string, string][] = [
            [loneKey(ns, 1), `${ns} lone`],
            [ns + encodeArguments([1, 2]), `${ns} list`],
            [loneKey(ns, "s"), `${ns} string API`],
          ];
          for (const [read, half] of halves(state)) {
            for (const [key, value] of expectations) {
              const what = `${read}(${showKey(key)}) after disposing the partition of ${showKey(namespace)}`;
              if (gone) expectMiss(await half.get(key), what);
              else expectHit(await half.get(key), value, what);
            }
          }
          if (!gone) expectHit(partitions.get(ns)!.getLone(1), `${ns} lone`, `getLone(1) of ${showKey(ns)} after disposing ${showKey(namespace)}`);
        }
        const again = openPartition(state, namespace);
        expectMiss(again.getLone(1), `getLone(1) of a new partition of ${showKey(namespace)} after dispose`);
        again.setLone(1, "again", null);
        expectHit(await async.get(loneKey(namespace, 1)), "again", "get of an entry written through a new partition after dispose");
      },
    },
    {
      title: "overwrites and deletes through either API, and ttls, apply to partition entries",
      async run(env) {
        const state = await env.create();
        const async = asyncOperations.bind(state);
        const partition = openPartition(state, namespace);
        const key = loneKey(namespace, 1);
        partition.setLone(1, "through the partition", null);
        await async.set(key, "through set", null);
        expectHit(partition.getLone(1), "through set", "getLone(1) after set overwrote it");
        partition.setLone(1, "through the partition again", null);
        expectHit(await async.get(key), "through the partition again", "get after setLone overwrote it");
        await async.delete(key);
        expectMiss(partition.getLone(1), "getLone(1) after delete of its key");
        const list = encodeArguments([1, 2]);
        partition.setLone(2, "short-lived", context.ttl(SHORT_TTL));
        partition.set(list, "short-lived", context.ttl(SHORT_TTL));
        partition.setLone(3, "long-lived", 600);
        await context.wait(PAST_EXPIRY);
        const after = `waiting ${context.ttl(PAST_EXPIRY)} s past a ttl of ${context.ttl(SHORT_TTL)} s`;
        expectMiss(partition.getLone(2), `getLone(2) after ${after}`);
        expectMiss(partition.get(list), `the partition's get(${showKey(list)}) after ${after}`);
        expectMiss(await async.get(loneKey(namespace, 2)), `get of a setLone entry after ${after}`);
        expectHit(partition.getLone(3), "long-lived", "getLone(3) with a ttl of 600 s");
      },
    },
    {
      title: "clear, and deletePrefix and invalidateTags where the state has them, reach partition entries; the partition stays usable",
      async run(env) {
        const state = await env.create();
        const async = asyncOperations.bind(state);
        const partition = openPartition(state, namespace);
        if (supportsPrefixDeletion(state)) {
          partition.setLone(1, "doomed", null);
          partition.set(encodeArguments([1, 2]), "doomed", null);
          await state.deletePrefix(namespace);
          expectMiss(partition.getLone(1), `getLone(1) after deletePrefix(${showKey(namespace)})`);
          expectMiss(partition.get(encodeArguments([1, 2])), `the partition's get after deletePrefix(${showKey(namespace)})`);
        }
        if (supportsTags(state)) {
          partition.setLone(1, "tagged", null, { tags: ["t"] });
          partition.set(encodeArguments([1, 2]), "tagged", null, { tags: ["t"] });
          partition.setLone(2, "untagged", null);
          await state.invalidateTags(["t"]);
          expectMiss(partition.getLone(1), 'getLone(1) of an entry tagged "t" after invalidateTags(["t"])');
          expectMiss(partition.get(encodeArguments([1, 2])), 'the partition\'s get of an entry tagged "t" after invalidateTags(["t"])');
          expectHit(partition.getLone(2), "untagged", 'getLone(2) of an untagged entry after invalidateTags(["t"])');
        }
        partition.setLone(1, "before clear", null);
        await async.clear();
        expectMiss(partition.getLone(1), "getLone(1) after clear");
        partition.setLone(1, "after clear", null);
        expectHit(partition.getLone(1), "after clear", "getLone(1) written after clear");
        expectHit(await async.get(loneKey(namespace, 1)), "after clear", "get of an entry written through the partition after clear");
      },
    },
    {
      title: "two states' partitions of one namespace are apart; one state's partitions of a namespace share its entries",
      async run(env) {
        const first = await env.create();
        const second = await env.create();
        openPartition(first, namespace).setLone(1, "first", null);
        expectMiss(openPartition(second, namespace).getLone(1), "the second state's getLone(1) after the first state's setLone(1)");
        expectMiss(await asyncOperations.bind(second).get(loneKey(namespace, 1)), "the second state's get after the first state's setLone(1)");
        expectHit(openPartition(first, namespace).getLone(1), "first", "getLone(1) through another partition of the same namespace");
      },
    },
  ];
}
