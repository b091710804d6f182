import { StateContractError } from "../errors.js";
import { anyoneListening, channels } from "../events.js";
import {
  type CacheEntry,
  type IState,
  type SetOptions,
  stateName,
  supportsGetMany,
  supportsSetMany,
  type TaggingState,
} from "../state/contract.js";
import { getThroughMany, setThroughMany } from "./many.js";
import type { Binding } from "./binding.js";
import type { Memo } from "./memo.js";
import { notify, now, publish, reportBackendError } from "./report.js";
import { type Slot, slotKey } from "./slot.js";
import { envelope } from "./stale.js";

/** States already reported for breaking the read contract (reported once each). */
const contractBreakers = new WeakSet<IState>();

/**
 * What a state's `get`/`getSync` returned, if it keeps the contract (`undefined`, or an object with
 * a `value`); anything else (`null`, a raw value) is reported once as a `StateContractError` and
 * read as a miss, so a user's state ported from Python (where `get` returns `None` or the raw value) never crashes a call or returns
 * a wrong value.
 */
export function checkedEntry(memo: Memo, b: Binding, found: unknown, key: string): CacheEntry | undefined {
  if (found === undefined || (typeof found === "object" && found !== null && "value" in found)) return found as CacheEntry | undefined;
  if (!contractBreakers.has(b.state)) {
    contractBreakers.add(b.state);
    const shown = found === null ? "null" : typeof found === "object" ? "an object without a `value`" : `a raw ${typeof found}`;
    const error = new StateContractError(
      `${stateName(b.state)}.get returned ${shown}; a state's get must return undefined for a miss and ` +
        `{ value } for a hit (e.g. return found ? { value: found } : undefined). Reads from it are treated as misses.`,
    );
    notify(b, error, { functionName: memo.name, operation: "get", key, state: b.state });
  }
  return undefined;
}

/**
 * Reads a slot synchronously; with `localCopyOnly`, only a shared state's local copy (no I/O), where
 * `undefined` means "not held there" rather than a miss. A failure is reported and reads as a miss.
 */
export function readSync(memo: Memo, b: Binding, slot: Slot, localCopyOnly = false): CacheEntry | undefined {
  const started = anyoneListening() ? now() : 0;
  try {
    let entry: CacheEntry | undefined;
    if (slot.partition !== undefined) {
      // A partition belongs to a state that keeps the contract by construction (it is Mimic's own API).
      entry =
        slot.shape === "lone"
          ? slot.partition.getLone(slot.index)
          : slot.shape === "pair"
            ? slot.partition.getPair(slot.index[0], slot.index[1])
            : slot.partition.get(slot.index);
    } else {
      const found: unknown = localCopyOnly ? b.layered!.getLocal(slot.key) : b.syncState!.getSync(slot.key);
      entry = checkedEntry(memo, b, found, slot.key);
    }
    if (entry !== undefined && started) publish(memo, channels.hit, b, slot, started);
    lastSyncFailed = false;
    return entry;
  } catch (error) {
    reportBackendError(memo, b, error, "get", slotKey(memo, slot), started);
    lastSyncFailed = !isCorruptEntry(error);
    return undefined;
  }
}

/**
 * Whether the last synchronous read ({@link readSync}) or write ({@link writeSlot} with `sync`) found
 * the backend failing: an error other than a corrupt entry, which suggests it is down or hung, so
 * that the caller can spare itself the next operation's timeout. Set when the operation ends (after
 * the hooks and subscribers it ran), so it must be read right after it.
 */
export function lastSyncOperationFailed(): boolean {
  return lastSyncFailed;
}

/** Forgets the last synchronous outcome (before an operation that may not reach the backend at all). */
export function forgetSyncOutcome(): void {
  lastSyncFailed = false;
}

let lastSyncFailed = false;

function isCorruptEntry(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "MIMIC_CORRUPT_ENTRY";
}

/**
 * Reads a key from the state; a failure is reported (and rethrown when strict) and reads as a miss,
 * `failed` unless the backend answered with a corrupt entry.
 */
export async function readAsync(memo: Memo, b: Binding, key: string): Promise<{ entry: CacheEntry | undefined; failed: boolean }> {
  const started = anyoneListening() ? now() : 0;
  let found: unknown;
  try {
    found = await (memo.batched && supportsGetMany(b.state) ? getThroughMany(b.state, key) : b.state.get(key));
  } catch (error) {
    reportBackendError(memo, b, error, "get", key, started);
    // A corrupt entry is a miss from a backend that answered: the write that follows is awaited as
    // usual. Any other failure suggests the backend is down or hung (see `settle`).
    return { entry: undefined, failed: !isCorruptEntry(error) };
  }
  const entry = checkedEntry(memo, b, found, key);
  if (entry !== undefined && started) publish(memo, channels.hit, b, { partition: undefined, key }, started);
  return { entry, failed: false };
}

/** What is stored for a result: the value, or its envelope (expiry and compute time) when the function has one. */
function storedForm(memo: Memo, result: unknown, ttl: number | null, delta: number): unknown {
  return memo.envelope === undefined ? result : envelope(result, ttl, delta);
}

/**
 * Writes a result to its slot: synchronously into a partition, with `setSync` when `sync`, else with
 * `set` (then the returned promise settles when the write has). `ttl` is the result's (seconds,
 * `null` = never); the state keeps it for the longest stale window more; `delta` is the milliseconds
 * the execution took. A failure is reported (rethrown when strict); it never leaves the call
 * without its value otherwise.
 */
export function writeSlot(
  memo: Memo,
  b: Binding,
  slot: Slot,
  result: unknown,
  options: SetOptions | undefined,
  sync: boolean,
  ttl: number | null,
  delta: number,
): void | Promise<void> {
  const value = storedForm(memo, result, ttl, delta);
  const started = anyoneListening() ? now() : 0;
  try {
    const kept = ttl === null ? null : ttl + memo.longestWindow;
    if (slot.partition === undefined) {
      if (sync) writeToState(b.syncState!, "setSync", slot.key, value, kept, options);
      else {
        const write =
          memo.batched && supportsSetMany(b.state)
            ? setThroughMany(b.state, options === undefined ? { key: slot.key, value, ttl: kept } : { key: slot.key, value, ttl: kept, options })
            : writeToState(b.state, "set", slot.key, value, kept, options);
        return Promise.resolve(write).then(
          () => wrote(memo, b, slot, started),
          (error: unknown) => writeFailed(memo, b, slot, started, error),
        );
      }
    } else if (slot.shape === "lone") slot.partition.setLone(slot.index, value, kept, options);
    else if (slot.shape === "pair") slot.partition.setPair(slot.index[0], slot.index[1], value, kept, options);
    else slot.partition.set(slot.index, value, kept, options);
    wrote(memo, b, slot, started);
    if (sync) lastSyncFailed = false;
  } catch (error) {
    writeFailed(memo, b, slot, started, error);
    if (sync) lastSyncFailed = true;
  }
}

/** After a write: its `set` event, when someone listened as it began (`started` is then non-zero). */
function wrote(memo: Memo, b: Binding, slot: Slot, started: number): void {
  if (started) publish(memo, channels.set, b, slot, started);
}

/** A failed write: reported (rethrown when strict). */
function writeFailed(memo: Memo, b: Binding, slot: Slot, started: number, error: unknown): void {
  reportBackendError(memo, b, error, "set", slotKey(memo, slot), started);
}

/**
 * Calls a state's `set`/`setSync`, passing `options` only when there is something to pass, so that a
 * third-party state without capabilities sees exactly the three arguments of `IState`.
 */
function writeToState<M extends "set" | "setSync">(
  state: IState,
  method: M,
  key: string,
  value: unknown,
  ttl: number | null,
  options: SetOptions | undefined,
): ReturnType<TaggingState[M] & ((...args: never[]) => unknown)> {
  const write = state[method] as (key: string, value: unknown, ttl: number | null, options?: SetOptions) => never;
  return options === undefined ? write.call(state, key, value, ttl) : write.call(state, key, value, ttl, options);
}
