import { supportsPrefixDeletion, type TaggingState } from "@mimic/core";
import { expectHit, expectMiss } from "../assertions.js";
import { inBatches } from "../batches.js";
import { tagOperations, type TagOperations } from "../capability-operations.js";
import { mimicKey } from "../fixtures/keys.js";
import { deletedNamespaces } from "../fixtures/namespaces.js";
import { showKey } from "../format.js";
import type { SuiteContext } from "../harness.js";
import type { OperationsKind } from "../operations.js";
import type { Scenario } from "../scenarios.js";
import { expectRejection, expectThrow } from "./failures.js";

/** Which of `keys` must be hits (with their value) and which misses, after `after`. */
async function expectKeys(state: TagOperations, hits: Record<string, unknown>, misses: string[], after: string): Promise<void> {
  for (const key of misses) expectMiss(await state.get(key), `get(${showKey(key)}) after ${after}`);
  for (const [key, value] of Object.entries(hits)) expectHit(await state.get(key), value, `get(${showKey(key)}) after ${after}, which must not remove it`);
}

/** A ttl short enough to wait out, and the wait past it (seconds, before `timeScale`). */
const SHORT_TTL = 0.2;
const PAST_EXPIRY = 0.45;

/** Tags: `set`/`setSync` with `{ tags }`, then `invalidateTags`. */
export function tagScenarios(context: SuiteContext, kind: OperationsKind): Scenario<TaggingState>[] {
  const bind = (state: TaggingState) => tagOperations(state, kind);
  const scenarios: Scenario<TaggingState>[] = [
    {
      title: "invalidateTags removes the entries carrying a tag, and no untagged or otherwise tagged entry",
      async run(env) {
        const state = bind(await env.create());
        await state.setTagged("a1", "a1", null, ["a"]);
        await state.setTagged("a2", { tagged: "a" }, 600, ["a"]);
        await state.setTagged("b1", "b1", null, ["b"]);
        await state.setTagged("none", "none", null, []);
        await state.set("plain", "plain", null);
        await state.invalidateTags(["a"]);
        await expectKeys(state, { b1: "b1", none: "none", plain: "plain" }, ["a1", "a2"], 'invalidateTags(["a"])');
        await state.invalidateTags(["b"]);
        await expectKeys(state, { none: "none", plain: "plain" }, ["b1"], 'invalidateTags(["b"])');
        await state.setTagged("a1", "again", null, ["a"]);
        expectHit(await state.get("a1"), "again", "get of a tagged key written again after its tag was invalidated");
      },
    },
    {
      title: "an entry with several tags goes with any one of them, and several tags can be invalidated at once",
      async run(env) {
        const state = bind(await env.create());
        await state.setTagged("abc", 1, null, ["a", "b", "c"]);
        await state.setTagged("c", 2, null, ["c"]);
        await state.setTagged("d", 3, null, ["d"]);
        await state.setTagged("e", 4, null, ["e"]);
        await state.invalidateTags(["b"]);
        await expectKeys(state, { c: 2, d: 3, e: 4 }, ["abc"], 'invalidateTags(["b"]) (one of three tags of "abc")');
        await state.invalidateTags(["c", "d"]);
        await expectKeys(state, { e: 4 }, ["c", "d"], 'invalidateTags(["c", "d"])');
      },
    },
    {
      title: "tags match exactly: no prefix, pattern, case or separator matching",
      async run(env) {
        const state = bind(await env.create());
        const tags = ["user:1", "user:10", "user:*", "user:?", "user:[1]", "User:1", "user", "a|b", "a b", "é", "e\u0301", "😀", "%2A"];
        for (const tag of tags) await state.setTagged(`key of ${tag}`, tag, null, [tag]);
        const gone: string[] = [];
        for (const tag of ["user:*", "user:1", "user:?", "user:[1]", "a|b"]) {
          await state.invalidateTags([tag]);
          gone.push(`key of ${tag}`);
          const kept = Object.fromEntries(tags.filter((t) => !gone.includes(`key of ${t}`)).map((t) => [`key of ${t}`, t]));
          await expectKeys(state, kept, gone, `invalidateTags(${JSON.stringify([tag])})`);
        }
      },
    },
    {
      title: "overwriting an entry with new tags drops its old ones: invalidating an old tag keeps the new entry",
      async run(env) {
        const state = bind(await env.create());
        await state.setTagged("k", "first", null, ["old", "both"]);
        await state.setTagged("k", "second", null, ["new", "both"]);
        await state.invalidateTags(["old"]);
        await expectKeys(state, { k: "second" }, [], 'overwriting with tags ["new", "both"] and invalidateTags(["old"])');
        await state.invalidateTags(["new"]);
        await expectKeys(state, {}, ["k"], 'invalidateTags(["new"])');
        await state.setTagged("k", "third", 600, ["both"]);
        await state.invalidateTags(["both"]);
        await expectKeys(state, {}, ["k"], 'writing again with tag "both" and invalidateTags(["both"])');
      },
    },
    {
      title: "a key written again without tags, after an overwrite, delete, clear or deletePrefix, is not removed by its old tags",
      async run(env) {
        const raw = await env.create();
        const state = bind(raw);
        const prefixed = deletedNamespaces[0]! + "A1:d1;";
        const keys = ["overwritten", "deleted", prefixed];
        for (const key of keys) await state.setTagged(key, "tagged", null, ["t"]);
        await state.set("overwritten", "plain", null);
        await state.delete("deleted");
        if (supportsPrefixDeletion(raw)) await raw.deletePrefix(deletedNamespaces[0]!);
        else await state.delete(prefixed);
        await state.set("deleted", "plain", null);
        await state.set(prefixed, "plain", null);
        await state.invalidateTags(["t"]);
        const rewritten = Object.fromEntries(keys.map((key) => [key, "plain"]));
        await expectKeys(state, rewritten, [], 'rewriting without tags and invalidateTags(["t"])');
        await state.setTagged("cleared", "tagged", null, ["u"]);
        await state.clear();
        await state.set("cleared", "plain", null);
        await state.invalidateTags(["u"]);
        await expectKeys(state, { cleared: "plain" }, [], 'clear, rewriting without tags and invalidateTags(["u"])');
      },
    },
    {
      title: "an expired tagged entry stays a miss, and its tag does not reach a later entry under its key",
      async run(env) {
        const state = bind(await env.create());
        await state.setTagged("short", "short-lived", context.ttl(SHORT_TTL), ["t"]);
        await state.setTagged("long", "long-lived", null, ["t"]);
        await state.setTagged("other", "other", context.ttl(SHORT_TTL), ["u"]);
        await context.wait(PAST_EXPIRY);
        const after = `waiting ${context.ttl(PAST_EXPIRY)} s past a ttl of ${context.ttl(SHORT_TTL)} s`;
        await expectKeys(state, { long: "long-lived" }, ["short", "other"], after);
        await state.set("short", "plain", null);
        await state.invalidateTags(["t", "u"]);
        await expectKeys(state, { short: "plain" }, ["long", "other"], `${after}, writing "short" again without tags and invalidateTags(["t", "u"])`);
      },
    },
    {
      title: "invalidating tags nothing carries, or no tags at all, succeeds and changes nothing",
      async run(env) {
        const state = bind(await env.create());
        await state.invalidateTags(["never-used"]);
        await state.setTagged("k", "kept", null, ["t"]);
        await state.set("plain", "kept", null);
        await state.invalidateTags([]);
        await state.invalidateTags(["never-used", "t2"]);
        await expectKeys(state, { k: "kept", plain: "kept" }, [], 'invalidateTags([]) and of tags nothing carries');
      },
    },
    {
      title: "invalidateTags leaves another state's entries with the same tags alone",
      async run(env) {
        const first = bind(await env.create());
        const second = bind(await env.create());
        await first.setTagged("k", "first", null, ["t"]);
        await second.setTagged("k", "second", null, ["t"]);
        await second.setTagged("only-second", 2, null, ["t"]);
        await first.invalidateTags(["t"]);
        await expectKeys(first, {}, ["k"], 'invalidateTags(["t"])');
        await expectKeys(second, { k: "second", "only-second": 2 }, [], 'the first state\'s invalidateTags(["t"])');
        await second.invalidateTags(["t"]);
        await expectKeys(second, {}, ["k", "only-second"], 'the second state\'s own invalidateTags(["t"])');
      },
    },
    {
      title: "tagged entries under any key and with any value go: 10 KiB keys, lone surrogates, separators, a cached undefined",
      async run(env) {
        const state = bind(await env.create());
        const keys = [
          mimicKey("x".repeat(10 * 1024)),
          mimicKey("x".repeat(10 * 1024) + "\uD800"),
          mimicKey("a\uDC00"),
          "|:%#/ \n\u0000😀",
        ];
        const values = [undefined, null, 0, { nested: [1] }];
        for (const [i, key] of keys.entries()) await state.setTagged(key, values[i], null, ["t"]);
        await state.setTagged(mimicKey("kept"), "kept", null, ["t2"]);
        for (const [i, key] of keys.entries()) expectHit(await state.get(key), values[i], `get(${showKey(key)}) of a tagged entry`);
        await state.invalidateTags(["t"]);
        await expectKeys(state, { [mimicKey("kept")]: "kept" }, keys, 'invalidateTags(["t"])');
      },
    },
    {
      title: "300 entries under one tag all go with one invalidateTags",
      async run(env) {
        const state = bind(await env.create());
        const keys = Array.from({ length: 300 }, (_, i) => mimicKey(i));
        await inBatches(keys, (key, i) => state.setTagged(key, i, i % 2 === 0 ? null : 600, ["bulk", `own-${i}`]));
        await state.set(mimicKey("untagged"), "kept", null);
        await state.invalidateTags(["bulk"]);
        const entries = await inBatches(keys, (key) => state.get(key));
        for (const [i, entry] of entries.entries()) expectMiss(entry, `get(${showKey(keys[i]!)}) after invalidateTags(["bulk"])`);
        expectHit(await state.get(mimicKey("untagged")), "kept", 'get of an untagged entry after invalidateTags(["bulk"])');
      },
    },
  ];
  if (kind.sync || context.options.createFailingState === undefined) return scenarios;

  const { failureError } = context.options;
  scenarios.push({
    title: `on a failing backend, a tagged set and invalidateTags reject with ${failureError.name} (a tagged setSync throws it)`,
    async run(env) {
      const state = await env.createFailing();
      await expectRejection(context, state, "set", (s) => (s as TaggingState).set("k", 1, null, { tags: ["t"] }));
      await expectRejection(context, state, "invalidateTags", (s) => (s as TaggingState).invalidateTags(["t"]));
      if (context.options.capabilities.sync) {
        expectThrow(context, state, "setSync", (s) => (s as TaggingState).setSync?.("k", 1, null, { tags: ["t"] }));
      }
    },
  });
  return scenarios;
}
