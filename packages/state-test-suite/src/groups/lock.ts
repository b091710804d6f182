import { encodeArguments, type LockingState } from "@mimic/core";
import { ConformanceError, expectHit, expectMiss } from "../assertions.js";
import { lockOperations, type LockOperations } from "../capability-operations.js";
import { sharedNamespace } from "../fixtures/namespaces.js";
import { preview, showKey } from "../format.js";
import type { SuiteContext } from "../harness.js";
import { asyncOperations } from "../operations.js";
import type { Scenario } from "../scenarios.js";
import { expectRejection } from "./failures.js";

/** A lease nothing in a test outlives; every test unlocks what it still holds, so none lingers in a shared backend. */
const LONG_LEASE = 600;
const SHORT_LEASE = 0.2;
const PAST_EXPIRY = 0.45;
const CONTENDERS = 20;

/** Core locks a call's entry key, so leases are taken on keys shaped like entries. */
const namespace = sharedNamespace("a", "f");
const key = namespace + encodeArguments([1]);

/**
 * Keys that must lease independently: a key and its extension, another case, another function,
 * 10 KiB keys that differ only in their last character (states that shorten keys hash them), and
 * keys that differ only in a lone surrogate (which UTF-8 turns into U+FFFD).
 */
function distinctKeys(): string[] {
  const long = "x".repeat(10 * 1024);
  return [
    key,
    namespace + encodeArguments([12]),
    namespace + encodeArguments(["1"]),
    sharedNamespace("a", "ff") + encodeArguments([1]),
    sharedNamespace("a", "F") + encodeArguments([1]),
    namespace + encodeArguments([`${long}a`]),
    namespace + encodeArguments([`${long}b`]),
    namespace + encodeArguments(["\uD800"]),
    namespace + encodeArguments(["\uDC00"]),
    namespace + encodeArguments(["\uFFFD"]),
  ];
}

async function expectToken(locks: LockOperations, lockKey: string, lease: number, context: string): Promise<string> {
  const token = await locks.lock(lockKey, lease);
  if (token === undefined) {
    throw new ConformanceError(`lock(${showKey(lockKey)}, ${lease}) ${context}: expected a token, got undefined (held)`);
  }
  return token;
}

async function expectHeld(locks: LockOperations, lockKey: string, context: string): Promise<void> {
  const token = await locks.lock(lockKey, LONG_LEASE);
  if (token !== undefined) {
    // Give back what was wrongly granted, so that a shared backend keeps no stray lease.
    await locks.unlock(lockKey, token);
    throw new ConformanceError(
      `lock(${showKey(lockKey)}) ${context}: expected undefined (the key is held), got the token ${preview(token)}: two callers would hold the lease at once`,
    );
  }
}

function expectNew(token: string, earlier: readonly string[], context: string): void {
  if (earlier.includes(token)) {
    throw new ConformanceError(`${context}: the new token ${preview(token)} equals an earlier holder's, whose unlock would release the new lease`);
  }
}

/** Leases (`lock`/`unlock`), which core's `lock` option uses for single-flight across processes; async only. */
export function lockScenarios(context: SuiteContext): Scenario<LockingState>[] {
  const scenarios: Scenario<LockingState>[] = [
    {
      title: "lock on a free key resolves with a non-empty string token; a second lock while it is held resolves with undefined",
      async run(env) {
        const locks = lockOperations(await env.create());
        const token = await expectToken(locks, key, LONG_LEASE, "on a free key");
        for (let attempt = 1; attempt <= 3; attempt++) await expectHeld(locks, key, `attempt ${attempt} while the first lease is held`);
        await locks.unlock(key, token);
      },
    },
    {
      title: "different keys lease independently (neighbours, 10 KiB keys, keys differing in a lone surrogate)",
      async run(env) {
        const locks = lockOperations(await env.create());
        const keys = distinctKeys();
        const tokens: string[] = [];
        for (const lockKey of keys) {
          tokens.push(await expectToken(locks, lockKey, LONG_LEASE, `while only other keys (${keys.indexOf(lockKey)} of them) are held`));
        }
        for (const lockKey of keys) await expectHeld(locks, lockKey, "after every key was locked once");
        await locks.unlock(keys[0]!, tokens[0]!);
        await locks.unlock(keys[0]!, await expectToken(locks, keys[0]!, LONG_LEASE, "after its own unlock"));
        for (const lockKey of keys.slice(1)) await expectHeld(locks, lockKey, `after unlocking ${showKey(keys[0]!)} only`);
        for (const [i, lockKey] of keys.entries()) if (i > 0) await locks.unlock(lockKey, tokens[i]!);
      },
    },
    {
      title: "unlock with the holder's token frees the key: the next lock gets a new, different token",
      async run(env) {
        const locks = lockOperations(await env.create());
        const tokens = [await expectToken(locks, key, LONG_LEASE, "on a free key")];
        for (let round = 1; round <= 3; round++) {
          await locks.unlock(key, tokens.at(-1)!);
          const token = await expectToken(locks, key, LONG_LEASE, `after unlock with the holder's token (round ${round})`);
          expectNew(token, tokens, `lock(${showKey(key)}) after unlock (round ${round})`);
          tokens.push(token);
        }
        await locks.unlock(key, tokens.at(-1)!);
        await locks.unlock(key, tokens.at(-1)!); // unlocking a free key is harmless
      },
    },
    {
      title: "unlock with a wrong token (made up, another key's, an earlier holder's) leaves the lease held",
      async run(env) {
        const locks = lockOperations(await env.create());
        const other = sharedNamespace("a", "g") + encodeArguments([1]);
        const otherToken = await expectToken(locks, other, LONG_LEASE, "on a free key");
        const first = await expectToken(locks, key, LONG_LEASE, "on a free key");
        for (const wrong of ["not-a-token", " ", `${first}x`, first.slice(0, -1), otherToken]) {
          if (wrong === first) continue;
          await locks.unlock(key, wrong);
          await expectHeld(locks, key, `after unlock(${showKey(key)}, ${showKey(wrong)}), a token that does not hold it`);
        }
        await locks.unlock(key, first);
        const second = await expectToken(locks, key, LONG_LEASE, "after unlock with the holder's token");
        await locks.unlock(key, first);
        await expectHeld(locks, key, "after unlock with the previous holder's token");
        await expectHeld(locks, other, `after unlocking ${showKey(key)}`);
        await locks.unlock(key, second);
        await locks.unlock(other, otherToken);
      },
    },
    {
      title: "a lease expires once its (short) lease has passed, and a new lock takes the key over; a longer lease stays held",
      async run(env) {
        const locks = lockOperations(await env.create());
        const lasting = namespace + encodeArguments([2]);
        const short = context.ttl(SHORT_LEASE);
        const first = await expectToken(locks, key, short, "on a free key");
        const lastingToken = await expectToken(locks, lasting, LONG_LEASE, "on a free key");
        await expectHeld(locks, key, `right after a lock with a lease of ${short} s`);
        await context.wait(PAST_EXPIRY);
        const after = `${context.ttl(PAST_EXPIRY)} s after a lock with a lease of ${short} s`;
        const second = await expectToken(locks, key, LONG_LEASE, after);
        expectNew(second, [first], `lock(${showKey(key)}) ${after}`);
        await expectHeld(locks, key, `after the takeover ${after}`);
        await expectHeld(locks, lasting, `with a lease of ${LONG_LEASE} s, ${context.ttl(PAST_EXPIRY)} s later`);
        await locks.unlock(key, second);
        await locks.unlock(lasting, lastingToken);
      },
    },
    {
      title: "unlock with an expired holder's token after a takeover leaves the new holder's lease",
      async run(env) {
        const locks = lockOperations(await env.create());
        const expired = await expectToken(locks, key, context.ttl(SHORT_LEASE), "on a free key");
        await context.wait(PAST_EXPIRY);
        const holder = await expectToken(locks, key, LONG_LEASE, "after the first lease expired");
        await locks.unlock(key, expired);
        await expectHeld(locks, key, "after the expired holder's unlock, which must not release the new holder's lease");
        await locks.unlock(key, holder);
        await locks.unlock(key, await expectToken(locks, key, LONG_LEASE, "after the new holder's unlock"));
      },
    },
    {
      title: `${CONTENDERS} concurrent locks on a free key: exactly one gets a token, twice over`,
      async run(env) {
        const locks = lockOperations(await env.create());
        for (const round of ["a free key", "the key freed by its holder's unlock"]) {
          const results = await Promise.all(Array.from({ length: CONTENDERS }, () => locks.lock(key, LONG_LEASE)));
          const tokens = results.filter((token): token is string => token !== undefined);
          await Promise.all(tokens.map((token) => locks.unlock(key, token)));
          if (tokens.length !== 1) {
            throw new ConformanceError(
              `${CONTENDERS} concurrent lock(${showKey(key)}) on ${round}: ${tokens.length} got a token (${preview(tokens)}); exactly one must`,
            );
          }
        }
      },
    },
    {
      title: "leases leave entries alone: get/set/delete of a locked key work, and lock/unlock neither write nor remove entries",
      async run(env) {
        const state = await env.create();
        const locks = lockOperations(state);
        const entries = asyncOperations.bind(state);
        const bare = namespace + encodeArguments([3]);
        await entries.set(key, { stored: "before the lock" }, null);
        const token = await expectToken(locks, key, LONG_LEASE, "on a key that has an entry");
        const bareToken = await expectToken(locks, bare, LONG_LEASE, "on a key without an entry");
        expectHit(await entries.get(key), { stored: "before the lock" }, `get(${showKey(key)}) while it is locked`);
        expectMiss(await entries.get(bare), `get(${showKey(bare)}), never set, after lock of that key`);
        await entries.set(key, { stored: "while locked" }, null);
        expectHit(await entries.get(key), { stored: "while locked" }, `get(${showKey(key)}) after set while it is locked`);
        await locks.unlock(key, token);
        await locks.unlock(bare, bareToken);
        expectHit(await entries.get(key), { stored: "while locked" }, `get(${showKey(key)}) after unlock`);
        expectMiss(await entries.get(bare), `get(${showKey(bare)}), never set, after unlock of that key`);
        const again = await expectToken(locks, key, LONG_LEASE, "after unlock");
        await entries.delete(key);
        expectMiss(await entries.get(key), `get(${showKey(key)}) after delete while it is locked`);
        await entries.set(key, "after delete", null);
        expectHit(await entries.get(key), "after delete", `get(${showKey(key)}) after set while it is locked`);
        // Whether clear also drops leases is the state's choice; either way it must leave locking usable.
        await entries.clear();
        expectMiss(await entries.get(key), `get(${showKey(key)}) after clear`);
        await locks.unlock(key, again);
        await locks.unlock(key, await expectToken(locks, key, LONG_LEASE, "after clear and its holder's unlock"));
      },
    },
  ];
  if (context.options.createFailingState === undefined) return scenarios;

  const { failureError } = context.options;
  scenarios.push({
    title: `on a failing backend, lock and unlock reject with ${failureError.name}`,
    async run(env) {
      const state = await env.createFailing();
      await expectRejection(context, state, "lock", (s) => (s as LockingState).lock(key, LONG_LEASE));
      await expectRejection(context, state, "unlock", (s) => (s as LockingState).unlock(key, "some-token"));
    },
  });
  return scenarios;
}
