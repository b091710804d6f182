import { InvalidTtlError } from "../errors.js";
import { describeValue } from "../option-kit.js";
import type { Binding } from "./binding.js";
import type { Memo } from "./memo.js";
import { notify } from "./report.js";
import { type Slot, slotKey } from "./slot.js";

/** What `ttlFor` answers when the result must not be stored (ttl 0, or a ttl function that failed). */
export const DO_NOT_STORE = Symbol("do not store");

/**
 * The ttl (seconds, `null` = never expires) of one execution's result: the `ttl` option, or what
 * the ttl function computes from the result, called once per execution. A ttl function's `0`, and
 * a ttl function that throws or returns an invalid value, mean the result is returned but not
 * stored; the latter is reported to `onError` (an `InvalidTtlError` naming the value), never thrown.
 */
export function ttlFor(memo: Memo, b: Binding, result: unknown, args: unknown[], slot: Slot): number | null | typeof DO_NOT_STORE {
  const { ttl } = memo.settings;
  // A fixed `ttl: 0` writes entries that are expired at once (with a stale window, stale at once);
  // only a ttl function's 0 means "do not store" this result.
  if (typeof ttl !== "function") return ttl;
  let computed: unknown;
  try {
    computed = ttl(result, args);
  } catch (error) {
    report(memo, b, slot, `threw (${error instanceof Error ? error.message : String(error)})`, error);
    return DO_NOT_STORE;
  }
  if (computed === null) return null;
  if (typeof computed !== "number" || Number.isNaN(computed) || computed < 0 || computed === Infinity) {
    report(memo, b, slot, `returned ${describeValue(computed)}, not a number of seconds >= 0 or null`);
    return DO_NOT_STORE;
  }
  return computed === 0 ? DO_NOT_STORE : computed;
}

function report(memo: Memo, b: Binding, slot: Slot, what: string, cause?: unknown): void {
  const error = new InvalidTtlError(`Mime: the ttl function of "${memo.name}" ${what}; the result was returned but not cached`);
  if (cause !== undefined) Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
  notify(b, error, { functionName: memo.name, operation: "set", key: slotKey(memo, slot), state: b.state });
}
