import type { LockingState, SetOptions } from "../state/contract.js";
import type { Binding } from "./binding.js";
import { decide } from "./decision.js";
import type { Memo } from "./memo.js";
import type { runAndStore } from "./read-through.js";
import { reportBackendError } from "./report.js";
import { checkedEntry } from "./state-access.js";
import type { Flight } from "./single-flight.js";
import { type Slot, slotKey } from "./slot.js";

/** Whether misses take a cross-process lease (`lock` option on a shared state). */
export function lockApplies(memo: Memo, b: Binding): boolean {
  return memo.settings.lock !== undefined && !b.local;
}

/** Takes the lease: its token, `undefined` when another holds it, or `null` when the state failed (run unlocked). */
export async function tryLock(memo: Memo, b: Binding, key: string): Promise<string | undefined | null> {
  try {
    return await (b.state as LockingState).lock(key, memo.settings.lock!.lease);
  } catch (error) {
    reportBackendError(memo, b, error, "lock", key);
    return null;
  }
}

export function releaseLock(memo: Memo, b: Binding, key: string, token: string): void {
  (b.state as LockingState).unlock(key, token).catch((error: unknown) => {
    try {
      reportBackendError(memo, b, error, "unlock", key);
    } catch {
      // strict: the call already has its value; a lease that outlives it expires by itself.
    }
  });
}

/** Reads the entry and returns its value if it is fresh; a state failure is reported and rethrown. */
async function readFresh(memo: Memo, b: Binding, key: string): Promise<{ value: unknown } | undefined> {
  let entry: unknown;
  try {
    entry = await b.state.get(key);
  } catch (error) {
    reportBackendError(memo, b, error, "get", key);
    throw error;
  }
  const decision = decide(checkedEntry(memo, b, entry, key), Date.now(), memo.envelope);
  return decision.kind === "hit" ? { value: decision.value } : undefined;
}

/** Runs the function and stores its result (the miss path shared by locked and unlocked calls). */
type RunAndStore = typeof runAndStore;

/**
 * On a miss: take the lease and run the function, or wait (polling with backoff) for the holder's
 * result; take over if the holder's lease expires; after `timeout`, or if the state fails, run it.
 */
export async function runLocked(
  memo: Memo,
  b: Binding,
  slot: Slot,
  flight: Flight,
  thisArg: unknown,
  args: unknown[],
  options: SetOptions | undefined,
  runAndStore: RunAndStore,
): Promise<unknown> {
  const key = slotKey(memo, slot);
  const deadline = Date.now() + memo.settings.lock!.timeout * 1000;
  let delay = 20;
  /** The state failed (reported): the function runs without a lease, and its write holds nobody. */
  let stateFailed = false;
  for (;;) {
    const token = await tryLock(memo, b, key);
    if (token === null) {
      stateFailed = true;
      break;
    }
    if (token !== undefined) {
      try {
        // The previous holder may have stored the value between our miss and our lease.
        const stored = await readFresh(memo, b, key).catch((error: unknown) => {
          if (b.strict) throw error;
          return undefined; // reported; run the function
        });
        if (stored !== undefined) {
          memo.counters.coalesced++;
          return stored.value;
        }
        return await runAndStore(memo, b, slot, flight, thisArg, args, options);
      } finally {
        releaseLock(memo, b, key, token);
      }
    }
    const wait = Math.min(delay, deadline - Date.now());
    if (wait <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
    delay = Math.min(delay * 1.5, 250);
    let value: { value: unknown } | undefined;
    try {
      value = await readFresh(memo, b, key);
    } catch (error) {
      if (b.strict) throw error;
      stateFailed = true;
      break; // the state failed (reported): run the function
    }
    if (value !== undefined) {
      memo.counters.coalesced++;
      return value.value;
    }
  }
  return runAndStore(memo, b, slot, flight, thisArg, args, options, stateFailed);
}
