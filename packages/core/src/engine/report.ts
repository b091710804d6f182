import type { ErrorContext, ErrorHandler, StateOperation } from "../config.js";
import { MimicError, StateError } from "../errors.js";
import { channels } from "../events.js";
import { stateName, type IState } from "../state/contract.js";
import type { Binding } from "./binding.js";
import type { Memo } from "./memo.js";
import { type Slot, slotKey } from "./slot.js";

/** The clock events are timed with. */
export const now = (): number => performance.now();

const WARNING_INTERVAL_MS = 30_000;
const lastWarning = new WeakMap<IState, number>();

/** The default `onError`: one process warning per state every 30 seconds. */
const warnAboutAbsorbedError: ErrorHandler = (error, context) => {
  const time = Date.now();
  if ((lastWarning.get(context.state) ?? -Infinity) > time - WARNING_INTERVAL_MS) return;
  lastWarning.set(context.state, time);
  process.emitWarning(
    `Mimic: ${error.message}. "${context.functionName}" was called instead of using the cache; ` +
      `pass onError to Mime or Config to handle these (further warnings for this state are muted for 30 s).`,
    { code: error.code },
  );
};

function toMimicError(raw: unknown, context: ErrorContext): MimicError {
  if (raw instanceof MimicError) return raw;
  const message = raw instanceof Error ? raw.message : String(raw);
  const key = context.key === undefined ? "" : ` for key ${JSON.stringify(context.key.slice(0, 200))}`;
  return new StateError(`${stateName(context.state)}.${context.operation} failed${key}: ${message}`, { cause: raw });
}

function contextOf(memo: Memo, b: Binding, operation: StateOperation, key: string | undefined): ErrorContext {
  return key === undefined
    ? { functionName: memo.name, operation, state: b.state }
    : { functionName: memo.name, operation, key, state: b.state };
}

/** Hands an error to the binding's `onError` (or the default warning); a handler that throws is ignored. */
export function notify(b: Binding, error: MimicError, context: ErrorContext): void {
  try {
    (b.onError ?? warnAboutAbsorbedError)(error, context);
  } catch {
    // An error handler that throws must not turn a cache problem into a failed call.
  }
}

/**
 * Reports a backend error on `key` (counted, published on `mimic:error`, given to `onError`), so
 * the call can go on without the cache; rethrows it instead when the binding is strict.
 * @param started when the failed operation began (`now()`), or 0 when nobody listens
 */
export function reportBackendError(
  memo: Memo,
  b: Binding,
  raw: unknown,
  operation: StateOperation,
  key: string | undefined,
  started = 0,
): void {
  memo.counters.errors++;
  const context = contextOf(memo, b, operation, key);
  const error = toMimicError(raw, context);
  if (channels.error.hasSubscribers) {
    channels.error.publish({
      functionName: memo.name,
      key: key ?? "",
      state: stateName(b.state),
      duration: started ? now() - started : 0,
      error,
      operation,
    });
  }
  if (b.strict) throw error;
  notify(b, error, context);
}

/** Reports an error of the function itself that a stale value covered (never thrown). */
export function reportCoveredFailure(
  memo: Memo,
  b: Binding,
  key: string,
  raw: unknown,
  code: "MIMIC_STALE_FALLBACK" | "MIMIC_REFRESH_FAILED",
): void {
  const message = raw instanceof Error ? raw.message : String(raw);
  const what = code === "MIMIC_STALE_FALLBACK" ? "the stale value was returned instead" : "the stale value stays until its window ends";
  const error = new MimicError(code, `"${memo.name}" failed (${message}); ${what}`, { cause: raw });
  notify(b, error, contextOf(memo, b, "get", key));
}

/** Counts a call answered with a stale value and publishes it on `mimic:stale`. */
export function countStale(memo: Memo, b: Binding, key: string, reason: "revalidate" | "fallback"): void {
  memo.counters.stale++;
  if (channels.stale.hasSubscribers) {
    channels.stale.publish({ functionName: memo.name, key, state: stateName(b.state), duration: 0, reason });
  }
}

/** Publishes a hit, miss or set event (only when the channel has subscribers). */
export function publish(
  memo: Memo,
  channel: (typeof channels)["hit" | "miss" | "set"],
  b: Binding,
  slot: Slot,
  started: number,
): void {
  // `started` is NaN when the call found no subscriber as it began (it did not read the clock).
  if (!channel.hasSubscribers || Number.isNaN(started)) return;
  channel.publish({ functionName: memo.name, key: slotKey(memo, slot), state: stateName(b.state), duration: now() - started });
}
