import type { Binding } from "./binding.js";
import { lockApplies, releaseLock, tryLock } from "./lock.js";
import type { Memo } from "./memo.js";
import { isThenable, settle } from "./read-through.js";
import { now, reportCoveredFailure } from "./report.js";
import { type Slot, slotKey } from "./slot.js";
import { openEnvelope } from "./stale.js";
import { tagsFor, writeOptions } from "./write-options.js";

/** The expiry of the entry the state holds now (0 when there is none or it cannot be read). */
async function expiryNow(memo: Memo, b: Binding, key: string): Promise<number> {
  try {
    const found = openEnvelope((await b.state.get(key))?.value);
    return found?.fresh ?? 0;
  } catch {
    return 0; // unreadable: refresh anyway
  }
}

/** How many keys' last refreshed expiry a function remembers (see `Memo.refreshed`). */
const MAX_REFRESHED_KEYS = 10_000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Stale-while-revalidate: recomputes a stale entry in the background, once per key per process (and
 * across processes with `lock`). The function runs on the next turn of the event loop, so the call
 * that found the entry never waits for any of it (a sync function's result is written
 * synchronously); a failure leaves the stale value until its window ends and is reported.
 * The refresh is a flight: an invalidation voids it like any other. With `lock`, the process that
 * takes the lease first checks that nobody refreshed the entry since it read it (`replacing`, the
 * expiry it saw), so each expiry is refreshed once across processes.
 */
export function refreshInBackground(memo: Memo, b: Binding, slot: Slot, thisArg: unknown, args: unknown[], replacing?: number): void {
  const key = slotKey(memo, slot);
  // Deduplicated by `refreshing` alone: this is often called from inside the very flight that
  // found the stale entry, which is about to return it.
  if (memo.refreshing.has(key)) return;
  // This entry was refreshed already: the read that found it raced with the refresh's write.
  if (replacing !== undefined && (memo.refreshed.get(key) ?? -Infinity) >= replacing) return;
  memo.refreshing.add(key);
  const sync = !memo.asyncMode;
  let tags: readonly string[] | undefined;
  try {
    tags = tagsFor(memo, thisArg, args);
  } catch (error) {
    memo.refreshing.delete(key);
    reportCoveredFailure(memo, b, key, error, "MIMIC_REFRESH_FAILED");
    return;
  }
  const refresh = memo.flights.start(key, tags, false, async (flight) => {
    // On the next turn of the event loop, sync or async: the call that found the entry returns
    // first, and does not wait for the function's synchronous part (its prelude before its first
    // await) either.
    await nextTurn();
    const token = lockApplies(memo, b) ? await tryLock(memo, b, key) : null;
    if (token === undefined) return; // another process holds the lease and refreshes
    try {
      // Another process may have refreshed the entry between our read and our lease.
      if (token !== null && replacing !== undefined && (await expiryNow(memo, b, key)) > replacing) return;
      memo.counters.misses++;
      const began = now();
      const result = memo.call.apply(thisArg, args);
      if (sync && isThenable(result)) {
        Promise.resolve(result).catch(() => undefined);
        throw new TypeError("the function returned a promise during a background refresh");
      }
      await settle(memo, b, slot, flight, args, result, writeOptions(b, tags, flight.startedAt), began, false, sync);
      if (replacing !== undefined) {
        if (memo.refreshed.size >= MAX_REFRESHED_KEYS) memo.refreshed.clear();
        memo.refreshed.set(key, replacing);
      }
    } finally {
      if (token !== null) releaseLock(memo, b, key, token);
    }
  });
  refresh
    .catch((error: unknown) => reportCoveredFailure(memo, b, key, error, "MIMIC_REFRESH_FAILED"))
    .finally(() => memo.refreshing.delete(key));
}
