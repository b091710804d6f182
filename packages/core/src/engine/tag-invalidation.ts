import { StateError } from "../errors.js";
import { getGlobalConfig } from "../global-config.js";
import { type IState, stateName, supportsTags, type TaggingState } from "../state/contract.js";
import { FlightTable } from "./single-flight.js";

/**
 * States that tagged functions have used in this process, held weakly; on `globalThis` so that the
 * ESM and CJS builds of Mimic loaded in one process invalidate the same states.
 */
interface TaggedStates {
  readonly refs: Set<WeakRef<TaggingState>>;
  readonly known: WeakSet<TaggingState>;
}
const taggedStatesKey = Symbol.for("@mimic/core/tagged-states@1");
const tagged: TaggedStates = ((globalThis as Record<symbol, unknown>)[taggedStatesKey] ??= {
  refs: new Set(),
  known: new WeakSet(),
} satisfies TaggedStates) as TaggedStates;
const taggedStates = tagged.refs;
const known = tagged.known;

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
  // Executions under way that carry one of the tags must not store their (older) result, and
  // entries whose write is under way must exist before they can be invalidated.
  await FlightTable.invalidateTagged(tags);
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
