import { StateError } from "@mimic/core";
import { fencing, locking, manyReads, manyWrites, partitioning, prefixDeletion, tagging } from "./capabilities.js";
import { registerConcurrencyTests } from "./groups/concurrency.js";
import { deletePrefixScenarios } from "./groups/delete-prefix.js";
import { registerEntryTests } from "./groups/entries.js";
import { registerFailureTests } from "./groups/failures.js";
import { registerKeyTests } from "./groups/keys.js";
import { fencingScenarios } from "./groups/fencing.js";
import { lockScenarios } from "./groups/lock.js";
import { manyReadScenarios, manyWriteScenarios } from "./groups/many.js";
import { partitionScenarios } from "./groups/partitions.js";
import { registerSyncContractTests } from "./groups/sync.js";
import { tagScenarios } from "./groups/tags.js";
import { registerTtlTests } from "./groups/ttl.js";
import { registerValueTests } from "./groups/values.js";
import { SuiteContext } from "./harness.js";
import { testGlobals } from "./jest-globals.js";
import { asyncOperations, syncOperations, type OperationsKind } from "./operations.js";
import { resolveOptions, type StateConformanceOptions } from "./options.js";
import { registerDenial, registerScenarios } from "./scenarios.js";

/**
 * Registers the `IState` conformance tests for a state factory, inside a `describe` block named
 * `options.name`. Call it at the top level of a jest test file:
 *
 * ```ts
 * import { describeStateConformance } from "@mimic/state-test-suite";
 * import { MyState } from "../src/index.js";
 *
 * describeStateConformance({
 *   name: "MyState",
 *   createState: () => new MyState({ prefix: `test-${randomUUID()}:` }),
 *   capabilities: { sync: false, structuredClone: true },
 * });
 * ```
 *
 * Each test creates its own states with `createState` and closes them afterwards (`closeState`, or
 * else `state.close()`). The tests cover, through the async operations and, when
 * `capabilities.sync`, again through the sync ones: miss vs hit; cached `undefined`, `null`, `0`,
 * `false`, `""` and `NaN` (and `-0` with `structuredClone`); JSON-safe values up to a 1 MiB string and
 * a 100,000-element array; structured-clone values when claimed; ttl expiry in real time (a ttl of 0
 * is a miss at once), fractional and `null` ttls, overwrites refreshing the ttl; `delete`; `clear`
 * touching only its own state; keys with every character class Mimic's key format can produce
 * (including NUL and lone surrogates) and 10 KiB keys; 1,000 keys; 50 concurrent callers on one key;
 * and, with `createFailingState`, that every operation of a broken backend fails with
 * `failureError`.
 *
 * Optional capabilities are covered too: `deletePrefix` (namespaces sharing a textual prefix, core's
 * real keys through `Mime`'s `fn.clear()`), tags (`set` with `{ tags }`, `invalidateTags`: exact
 * matching, overwrites dropping old tags, expiry, other states), partitions (the documented keys of
 * `getLone`/`setLone`/`get`/`set`, `dispose`) and leases (`lock`/`unlock`: exclusivity, tokens,
 * expiry and takeover, 20 concurrent lockers, entries left alone).
 * `capabilities.deletePrefix`/`tags`/`partitions`/`lock` set to `true` claim one (each scenario is
 * then its own test, failing if the state lacks it), `false` denies it (a test fails if the state
 * has it); left out, one test per capability detects it with core's detectors on a state from
 * `createState` and runs every scenario when it is there.
 *
 * The ttl tests wait in real time: do not enable fake timers globally for this file.
 * @throws TypeError or RangeError at once when an option is invalid, naming the option and value;
 *   Error when called outside a jest test file.
 */
export function describeStateConformance(options: StateConformanceOptions): void {
  const resolved = resolveOptions(options, StateError);
  const context = new SuiteContext(resolved, testGlobals());
  const kinds: OperationsKind[] = resolved.capabilities.sync ? [asyncOperations, syncOperations] : [asyncOperations];

  context.describe(resolved.name, () => {
    context.registerCleanup();
    for (const kind of kinds) {
      context.describe(kind.title, () => {
        if (kind === syncOperations) registerSyncContractTests(context);
        context.describe("entries", () => registerEntryTests(context, kind));
        context.describe("values", () => registerValueTests(context, kind));
        context.describe("ttl", () => registerTtlTests(context, kind));
        context.describe("keys", () => registerKeyTests(context, kind));
        context.describe("deletePrefix", () => registerScenarios(context, prefixDeletion, deletePrefixScenarios(context, kind)));
        context.describe("tags", () => registerScenarios(context, tagging, tagScenarios(context, kind)));
      });
    }
    context.describe("partitions", () => registerScenarios(context, partitioning, partitionScenarios(context)));
    context.describe("lock", () => registerScenarios(context, locking, lockScenarios(context)));
    context.describe("getMany", () => registerScenarios(context, manyReads, manyReadScenarios(resolved.timeScale)));
    context.describe("setMany", () => registerScenarios(context, manyWrites, manyWriteScenarios(resolved.timeScale)));
    context.describe("fencesWrites", () => registerScenarios(context, fencing, fencingScenarios()));
    context.describe("capabilities", () => {
      registerDenial(context, prefixDeletion);
      registerDenial(context, tagging);
      registerDenial(context, partitioning);
      registerDenial(context, locking);
      registerDenial(context, manyReads);
      registerDenial(context, manyWrites);
      registerDenial(context, fencing);
    });
    context.describe("concurrency", () => registerConcurrencyTests(context));
    if (resolved.createFailingState !== undefined) {
      context.describe("failing backend", () => registerFailureTests(context));
    }
  });
}
