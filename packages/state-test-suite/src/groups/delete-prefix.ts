import { Mime, NAMESPACE_END, type PrefixDeletingState } from "@mimic/core";
import { expectHit, expectMiss } from "../assertions.js";
import { inBatches } from "../batches.js";
import { prefixOperations, type PrefixOperations } from "../capability-operations.js";
import { argumentParts, deletedNamespaces, keysQuotingNamespaces, neighbourNamespaces, sharedNamespace } from "../fixtures/namespaces.js";
import { showKey } from "../format.js";
import type { SuiteContext } from "../harness.js";
import type { OperationsKind } from "../operations.js";
import type { Scenario } from "../scenarios.js";
import { expectRejection, expectThrow } from "./failures.js";

function namespaceOf(key: string): string {
  return key.slice(0, key.indexOf(NAMESPACE_END) + 1);
}

function keysUnder(namespaces: readonly string[]): string[] {
  const parts = argumentParts();
  return namespaces.flatMap((namespace) => parts.map((part) => namespace + part));
}

/** Writes `keys[i]` = `i`, with a ttl on every third so both kinds of entry are deleted. */
async function writeAll(state: PrefixOperations, keys: string[]): Promise<void> {
  await inBatches(keys, (key, i) => state.set(key, i, i % 3 === 0 ? 600 : null));
}

/** Each key is a miss when its namespace is in `gone`, else a hit with its index. */
async function expectOnly(state: PrefixOperations, keys: string[], gone: ReadonlySet<string>, after: string): Promise<void> {
  const entries = await inBatches(keys, (key) => state.get(key));
  for (const [i, entry] of entries.entries()) {
    const key = keys[i]!;
    if (gone.has(namespaceOf(key))) expectMiss(entry, `get(${showKey(key)}) after ${after}`);
    else expectHit(entry, i, `get(${showKey(key)}) after ${after}, which must not touch it`);
  }
}

/** The function every memoized wrapper of the `clear()` scenario wraps: one object, so shared identities don't warn. */
async function echo(...args: unknown[]): Promise<{ args: unknown[] }> {
  return { args };
}

/** `deletePrefix` (and `deletePrefixSync` in the sync half, where present) on namespace-shaped prefixes. */
export function deletePrefixScenarios(context: SuiteContext, kind: OperationsKind): Scenario<PrefixDeletingState>[] {
  const bind = (state: PrefixDeletingState) => prefixOperations(state, kind);
  const scenarios: Scenario<PrefixDeletingState>[] = [
    {
      title: "deletePrefix removes exactly a namespace's entries: not a neighbour that shares a textual prefix, nor a key quoting it",
      async run(env) {
        const state = bind(await env.create());
        const keys = [...keysUnder([...deletedNamespaces, ...neighbourNamespaces]), ...keysQuotingNamespaces()];
        await writeAll(state, keys);
        const gone = new Set<string>();
        for (const namespace of deletedNamespaces) {
          await state.deletePrefix(namespace);
          gone.add(namespace);
          await expectOnly(state, keys, gone, `deletePrefix(${showKey(namespace)})`);
        }
      },
    },
    {
      title: "deletePrefix of a namespace that holds nothing, or of one already deleted, changes nothing",
      async run(env) {
        const state = bind(await env.create());
        await state.deletePrefix(deletedNamespaces[0]!);
        const keys = keysUnder(neighbourNamespaces);
        await writeAll(state, keys);
        for (const namespace of [...deletedNamespaces, sharedNamespace("s", "fff"), ...deletedNamespaces]) {
          await state.deletePrefix(namespace);
        }
        await expectOnly(state, keys, new Set(), "deletePrefix of namespaces without entries");
      },
    },
    {
      title: "deletePrefix leaves another state's entries under the same namespace alone",
      async run(env) {
        const first = bind(await env.create());
        const second = bind(await env.create());
        const keys = keysUnder(deletedNamespaces.slice(0, 1));
        await writeAll(first, keys);
        await writeAll(second, keys);
        await first.deletePrefix(deletedNamespaces[0]!);
        await expectOnly(first, keys, new Set(deletedNamespaces.slice(0, 1)), "deletePrefix");
        await expectOnly(second, keys, new Set(), "the first state's deletePrefix of the same namespace");
      },
    },
    {
      title: "entries written under a namespace after its deletion are kept, and go with the next deletion",
      async run(env) {
        const state = bind(await env.create());
        const namespace = deletedNamespaces[0]!;
        const keys = keysUnder([namespace]);
        await writeAll(state, keys);
        await state.deletePrefix(namespace);
        await writeAll(state, keys);
        await expectOnly(state, keys, new Set(), `writing again after deletePrefix(${showKey(namespace)})`);
        await state.deletePrefix(namespace);
        await expectOnly(state, keys, new Set([namespace]), `a second deletePrefix(${showKey(namespace)})`);
      },
    },
  ];
  if (kind.sync) return scenarios;

  scenarios.push({
    title: "a memoized function's clear() removes its own results and no other function's (Mime's real keys)",
    async run(env) {
      const state = await env.create();
      // Named f and ff: in a shared state their namespaces, m1:a:f::-| and m1:a:ff::-|, share a prefix.
      const f = Mime({ state, ttl: null, name: "f" })(echo);
      const ff = Mime({ state, ttl: null, name: "ff" })(echo);
      const f2 = Mime({ state, ttl: null, name: "f", version: "2" })(echo);
      const calls: unknown[][] = [[1], ["1"], [1, 2], [], ["x".repeat(10 * 1024)], [{ a: [null] }]];
      for (const fn of [f, ff, f2]) for (const args of calls) await fn(...args);
      await f.clear();
      for (const args of calls) {
        const shown = `(${args.map((arg) => showKey(JSON.stringify(arg) ?? "undefined")).join(", ")})`;
        expectMiss(await f.peek(...args), `f.peek${shown} after f.clear() (key ${showKey(f.key(...args))})`);
        expectHit(await ff.peek(...args), { args }, `ff.peek${shown} after f.clear() (key ${showKey(ff.key(...args))})`);
        expectHit(await f2.peek(...args), { args }, `f (version 2).peek${shown} after f.clear() (key ${showKey(f2.key(...args))})`);
      }
      await f(1);
      expectHit(await f.peek(1), { args: [1] }, "f.peek(1) after calling f(1) again");
    },
  });
  if (context.options.createFailingState === undefined) return scenarios;

  const { failureError } = context.options;
  scenarios.push({
    title: `on a failing backend, deletePrefix rejects with ${failureError.name} (and deletePrefixSync, where present, throws it)`,
    async run(env) {
      const state = await env.createFailing();
      const namespace = deletedNamespaces[0]!;
      await expectRejection(context, state, "deletePrefix", (s) => (s as PrefixDeletingState).deletePrefix(namespace));
      if (state.deletePrefixSync !== undefined) {
        expectThrow(context, state, "deletePrefixSync", (s) => (s as PrefixDeletingState).deletePrefixSync!(namespace));
      }
    },
  });
  return scenarios;
}
