import { StateError } from "./errors.js";
import { getGlobalConfig } from "./global-config.js";
import { type IState, stateName, supportsTags, type TaggingState } from "./state/contract.js";

/** States that tagged functions have used in this process, held weakly. */
const taggedStates = new Set<WeakRef<TaggingState>>();
const known = new WeakSet<TaggingState>();

/** Results returned to their callers whose write to a shared state is still under way. */
const pendingWrites = new Set<Promise<void>>();

/** Registers a background write, so that an invalidation made after the call sees its entry. */
export function trackWrite(write: Promise<void>): void {
  pendingWrites.add(write);
  void write.finally(() => pendingWrites.delete(write));
}

/** Remembers a state that holds (or will hold) tagged entries, for {@link invalidateTags}. */
export function registerTaggedState(state: TaggingState): void {
  if (known.has(state)) return;
  known.add(state);
  taggedStates.add(new WeakRef(state));
}

/**
 * Removes every entry carrying any of `tags` from every state that tagged functions use, and from
 * the global config's state (which another process may have tagged). Resolves when all are done;
 * rejects with a `StateError` naming the states that failed, after trying them all.
 */
export async function invalidateTags(tags: readonly string[]): Promise<void> {
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
    throw new TypeError(`Mime.invalidateTags: expected an array of strings, got ${JSON.stringify(tags) ?? String(tags)}`);
  }
  // Entries whose write is still under way must exist before they can be invalidated.
  await Promise.all(pendingWrites);
  const states = new Set<TaggingState>();
  for (const ref of taggedStates) {
    const state = ref.deref();
    if (state === undefined) taggedStates.delete(ref);
    else states.add(state);
  }
  const globalState: IState = getGlobalConfig().getState();
  if (supportsTags(globalState)) states.add(globalState);
  const targets = [...states];
  const results = await Promise.allSettled(targets.map((state) => state.invalidateTags(tags)));
  // A closed state holds nothing more to invalidate (and is forgotten); every other failure counts.
  const closed = (i: number): boolean => {
    const result = results[i]!;
    return result.status === "rejected" && (result.reason as { code?: unknown })?.code === "MIMIC_STATE_CLOSED";
  };
  for (const ref of taggedStates) {
    const i = targets.indexOf(ref.deref()!);
    if (i >= 0 && closed(i)) taggedStates.delete(ref);
  }
  const failed = targets.filter((_, i) => results[i]!.status === "rejected" && !closed(i));
  if (failed.length > 0) {
    const causes = results.flatMap((r, i) => (r.status === "rejected" && !closed(i) ? [r.reason as unknown] : []));
    throw new StateError(
      `Mime.invalidateTags(${JSON.stringify(tags)}) failed on ${failed.map(stateName).join(", ")}; entries there may remain`,
      { cause: new AggregateError(causes, "invalidateTags failures") },
    );
  }
}
